"""What one call of each step of the buying path costs, one client at a time on a quiet event.

Each step runs CALLS times through the real handler in-process (template routing, proxy event, JWT,
validation: what a Lambda environment does) and, where the step is a transaction of the repository's
statements, as that raw SQL on a bare connection. Per call: wall time, this process's CPU (the function's
share: handler, JSON, pg8000), the PostgreSQL backend's CPU (from /proc, summed over all the calls) and the
time inside PostgreSQL (wall minus the function's CPU). The expiry sweep is measured per row it frees.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import psutil

from bench.bookings_bench import _buyers
from bench.onsale_bench import raw_confirm, raw_create, raw_hold
from bench.purchase_mix import PAYMENT_TOKEN, Hall, postgres_cpu_seconds, postmaster_pid, seed_hall

CALLS = 40
SWEEP_ROWS = 4_000


@dataclass(frozen=True)
class Cost:
    step: str
    way: str  # "handler" or "raw SQL"
    wall_ms: float
    function_cpu_ms: float
    database_cpu_ms: float

    @property
    def transaction_ms(self) -> float:
        return max(0.0, self.wall_ms - self.function_cpu_ms)


def _postgres_cpu() -> float:
    """CPU-seconds of every PostgreSQL process so far: a handler runs on its own environment's connection."""
    return postgres_cpu_seconds(psutil.Process(postmaster_pid()))


def _cpu(process: psutil.Process) -> float:
    times = process.cpu_times()
    return times.user + times.system


def _measure(step: str, way: str, call: Callable[[int], Any], count: int = CALLS, warm_up: bool = True) -> Cost:
    """`call(0)` unmeasured when `warm_up` (imports, first connection), then `call(i)` up to `count`: wall per
    call (median), CPU per call (totals over the measured calls)."""
    me = psutil.Process()
    first = 1 if warm_up else 0
    if warm_up:
        call(0)
    walls = []
    database_before, process_before = _postgres_cpu(), _cpu(me)
    for index in range(first, first + count):
        started = time.perf_counter()
        call(index)
        walls.append(time.perf_counter() - started)
    return Cost(
        step=step,
        way=way,
        wall_ms=statistics.median(walls) * 1000,
        function_cpu_ms=(_cpu(me) - process_before) * 1000 / count,
        database_cpu_ms=(_postgres_cpu() - database_before) * 1000 / count,
    )


def _expect(response: Any, status: int) -> dict[str, Any]:
    if response.status != status:
        raise RuntimeError(f"expected {status}, got {response.status}: {response.body!r}"[:300])
    answer: dict[str, Any] = response.json() if response.status != 304 else {}
    return answer


def _handler_costs(api: Any, hall: Hall, tokens: list[str]) -> list[Cost]:
    event = str(hall.event_id)
    pairs = [
        [str(seat) for seat in hall.rows[index // 50][(index % 50) * 2 : (index % 50) * 2 + 2]]
        for index in range(CALLS + 1)
    ]
    bookings: list[dict[str, Any]] = []

    def hold(index: int) -> None:
        _expect(
            api.post("/api/bookings/hold-seats", json={"eventId": event, "seatIds": pairs[index]}, token=tokens[index]),
            200,
        )

    def hold_best(index: int) -> None:
        _expect(
            api.post(
                "/api/bookings/hold-best", json={"eventId": event, "quantity": 2}, token=tokens[CALLS + 1 + index]
            ),
            200,
        )

    def create(index: int) -> None:
        bookings.append(_expect(api.post("/api/bookings/create", json={"eventId": event}, token=tokens[index]), 201))

    def confirm(index: int) -> None:
        booking = bookings[index]
        body = {"paymentToken": PAYMENT_TOKEN, "amount": booking["total"], "version": booking["version"]}
        bookings[index] = _expect(
            api.post(f"/api/bookings/{booking['id']}/confirm", json=body, token=tokens[index]), 200
        )

    def cancel(index: int) -> None:
        booking = bookings[index]
        body = {"version": booking["version"]}
        _expect(api.post(f"/api/bookings/{booking['id']}/cancel", json=body, token=tokens[index]), 200)

    status_path = f"/api/events/{event}/seats/status"
    latest_etag = [""]  # what the last full status answered: nothing changes between the two measurements

    def status(index: int) -> None:
        response = api.get(status_path, headers={"Accept-Encoding": "gzip"})
        _expect(response, 200)
        latest_etag[0] = response.headers.get("etag", "")

    def not_modified(index: int) -> None:
        headers = {"Accept-Encoding": "gzip", "If-None-Match": latest_etag[0]}
        _expect(api.get(status_path, headers=headers), 304)

    return [
        _measure("hold", "handler", hold),
        _measure("hold-best", "handler", hold_best),
        _measure("create", "handler", create),
        _measure("confirm", "handler", confirm),
        _measure("cancel", "handler", cancel),
        _measure("status", "handler", status),
        _measure("status-304", "handler", not_modified),
    ]


def _raw_costs(hall: Hall, buyers: list[UUID]) -> list[Cost]:
    from ticketing.catalog.events import repository as events_repo
    from ticketing.db import transaction

    pairs = [hall.rows[-1 - index // 50][(index % 50) * 2 : (index % 50) * 2 + 2] for index in range(CALLS + 1)]
    bookings: list[dict[str, Any]] = []

    def status(index: int) -> None:
        with transaction() as tx:
            section_ids = list(events_repo.prices_of(tx, hall.event_id))
            events_repo.seat_status_json(tx, hall.event_id, section_ids=section_ids)

    def not_modified(index: int) -> None:
        with transaction() as tx:
            events_repo.seat_state_token(tx, hall.event_id)

    return [
        _measure("hold", "raw SQL", lambda index: raw_hold(buyers[index], hall.event_id, pairs[index])),
        _measure("create", "raw SQL", lambda index: bookings.append(raw_create(buyers[index], hall.event_id))),
        _measure("confirm", "raw SQL", lambda index: raw_confirm(bookings[index], hall.event_id)),
        _measure("status", "raw SQL", status),
        _measure("status-304", "raw SQL", not_modified),
    ]


def _sweep_cost(hall: Hall, holder: UUID) -> Cost:
    """The expiry sweep, per expired hold it frees (SWEEP_ROWS of them at once)."""
    from ticketing.bookings.expiry import sweep
    from ticketing.db import transaction

    seats = [seat for row in hall.rows[20:] for seat in row][:SWEEP_ROWS]
    with transaction() as tx:
        tx.execute(
            "UPDATE event_seats SET status = 'HELD', held_by = :holder, held_until = now() - interval '1 second'"
            " WHERE id = ANY(:seats)",
            holder=holder,
            seats=seats,
        )
    cost = _measure(
        "expiry sweep (per row)", "handler", lambda index: sweep(time_budget_seconds=60), count=1, warm_up=False
    )
    return Cost(
        cost.step,
        cost.way,
        cost.wall_ms / SWEEP_ROWS,
        cost.function_cpu_ms / SWEEP_ROWS,
        cost.database_cpu_ms / SWEEP_ROWS,
    )


def measure_step_costs(api: Any) -> list[Cost]:
    """Every step through the handlers, then as raw SQL, then the sweep; each on its own quiet event."""
    identities = _buyers(2 * (CALLS + 1))
    tokens = [token for _, token in identities]
    handler_costs = _handler_costs(api, seed_hall(), tokens)
    raw_hall = seed_hall()
    raw_costs = _raw_costs(raw_hall, [user_id for user_id, _ in identities])
    return [*handler_costs, *raw_costs, _sweep_cost(raw_hall, identities[-1][0])]


def step_table(costs: list[Cost]) -> list[str]:
    lines = [
        "| step | way | wall p50 (ms) | function CPU (ms) | PostgreSQL CPU (ms) | in PostgreSQL (ms) |",
        "|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {c.step} | {c.way} | {c.wall_ms:.2f} | {c.function_cpu_ms:.2f} | {c.database_cpu_ms:.2f} |"
        f" {c.transaction_ms:.2f} |"
        for c in costs
    ]
    return lines
