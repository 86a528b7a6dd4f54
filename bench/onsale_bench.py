"""On-sale: a crowd of buyers arriving at once at a 20,000-seat event, over real HTTP through the local runner.

BUYERS virtual buyers (ONSALE_BUYERS, default 500), one thread and one HTTP connection each, wait at a
barrier and start together. Each wants two neighbouring seats in the front part of the hall (2 x BUYERS
pairs, so buyers collide on their first choices as they do when a show opens): hold-seats, then create the
booking, then confirm it with a test card. A 409 is retried, at most MAX_ATTEMPTS times per step: a lost
hold tries another random pair, a create or confirm is sent again. A connection error is counted, never
retried. Afterwards the database is checked: no seat in more than one CONFIRMED booking, and as many BOOKED
seats as confirmed booking items.

The ceiling: the same crowd and the same choices on a fresh event, each step as the repository's
statements in one transaction on a bare pg8000 connection (no HTTP, no handler, no validation, no
notification or outbox rows). Results go to bench/results/onsale.md and docs/benchmarks.md.
"""

from __future__ import annotations

import http.client
import json
import multiprocessing
import os
import random
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

from bench.bookings_bench import _buyers, _percentile, _seed_event
from bench.harness import REPO_ROOT, bench_setup, replace_doc_section
from bench.machine import machine_lines

BUYERS = int(os.environ.get("ONSALE_BUYERS", "500"))
ROWS, SEATS_PER_ROW = 100, 200  # 20,000 seats
SEATS_PER_BUYER = 2
MAX_ATTEMPTS = 5
# Connections PostgreSQL keeps free for the runner, the checks and anything else while the raw crowd runs.
SPARE_CONNECTIONS = 20
HTTP_TIMEOUT_SECONDS = 60
RESULTS = REPO_ROOT / "bench" / "results" / "onsale.md"
STEPS = ("hold", "create", "confirm")
PAYMENT_TOKEN = "tok_visa"

_fork = multiprocessing.get_context("fork")


@dataclass
class Tally:
    """What the crowd did, shared by its threads (appends are atomic under the GIL)."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: {step: [] for step in STEPS})
    conflicts: list[str] = field(default_factory=list)  # the step of each 409
    purchases: list[int] = field(default_factory=list)  # seats per confirmed purchase
    gave_up: list[str] = field(default_factory=list)  # the step a buyer stopped at
    connection_errors: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)

    def absorb(self, other: Tally) -> None:
        for step in STEPS:
            self.latencies[step] += other.latencies[step]
        self.conflicts += other.conflicts
        self.purchases += other.purchases
        self.gave_up += other.gave_up
        self.connection_errors += other.connection_errors
        self.unexpected += other.unexpected


@dataclass(frozen=True)
class Buyer:
    user_id: UUID
    token: str
    rng_seed: int


class Retry(Exception):
    """This attempt lost a race (409): try again within the step's bound."""


def _pairs(seats: list[UUID], buyers: int) -> list[list[UUID]]:
    front = seats[: 2 * buyers * SEATS_PER_BUYER]
    return [front[i : i + SEATS_PER_BUYER] for i in range(0, len(front) - SEATS_PER_BUYER + 1, SEATS_PER_BUYER)]


def _with_retries(tally: Tally, step: str, attempt: Callable[[], Any]) -> Any:
    for _ in range(MAX_ATTEMPTS):
        started = time.perf_counter()
        try:
            return attempt()
        except Retry:
            tally.conflicts.append(step)
        finally:
            tally.latencies[step].append(time.perf_counter() - started)
    tally.gave_up.append(step)
    return None


# --- through the runner ---------------------------------------------------------------------------------------


class HttpBuyer:
    def __init__(self, base_url: str, buyer: Buyer, tally: Tally) -> None:
        address = urlsplit(base_url)
        self._connection = http.client.HTTPConnection(
            address.hostname or "127.0.0.1", address.port, timeout=HTTP_TIMEOUT_SECONDS
        )
        self._buyer = buyer
        self._tally = tally

    def _post(self, path: str, body: dict[str, Any], expected: int) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {self._buyer.token}", "Content-Type": "application/json"}
        self._connection.request("POST", path, body=json.dumps(body), headers=headers)
        response = self._connection.getresponse()
        payload = response.read()
        if response.status == 409:
            raise Retry
        if response.status != expected:
            raise RuntimeError(f"{path} answered {response.status}: {payload[:300]!r}")
        answer: dict[str, Any] = json.loads(payload)
        return answer

    def buy(self, event_id: UUID, pairs: list[list[UUID]]) -> None:
        rng = random.Random(self._buyer.rng_seed)

        def hold() -> list[UUID]:
            pair = rng.choice(pairs)
            self._post("/api/bookings/hold-seats", {"eventId": str(event_id), "seatIds": [str(s) for s in pair]}, 200)
            return pair

        def create() -> dict[str, Any]:
            return self._post("/api/bookings/create", {"eventId": str(event_id)}, 201)

        try:
            pair = _with_retries(self._tally, "hold", hold)
            booking = pair and _with_retries(self._tally, "create", create)
            if not booking:
                return
            confirm_body = {"paymentToken": PAYMENT_TOKEN, "amount": booking["total"], "version": booking["version"]}
            confirmed = _with_retries(
                self._tally,
                "confirm",
                lambda: self._post(f"/api/bookings/{booking['id']}/confirm", confirm_body, 200),
            )
            if confirmed:
                self._tally.purchases.append(len(pair))
        except (OSError, http.client.HTTPException) as error:
            self._tally.connection_errors.append(type(error).__name__)
        except RuntimeError as error:
            self._tally.unexpected.append(str(error))
        finally:
            self._connection.close()


# --- the raw-SQL ceiling -----------------------------------------------------------------------------------------


def raw_hold(user_id: UUID, event_id: UUID, pair: list[UUID]) -> list[UUID]:
    """The hold as the repository's statements in one transaction (a lost seat raises Retry)."""
    from ticketing.bookings import holds_repository as holds_repo
    from ticketing.catalog.events import repository as events_repo
    from ticketing.db import transaction

    pair = sorted(pair)
    with transaction() as tx:
        events_repo.sale_state(tx, event_id)
        if not holds_repo.try_lock_buyer(tx, user_id, event_id):
            raise Retry
        seats = holds_repo.lock_seats(tx, event_id, pair)
        if any(seat["status"] != "AVAILABLE" for seat in seats):
            raise Retry
        holds_repo.count_tickets(tx, user_id, event_id)
        holds_repo.hold_seats(tx, pair, user_id, 600)
    return pair


def raw_create(user_id: UUID, event_id: UUID) -> dict[str, Any]:
    """The booking of the buyer's live holds as the repository's statements in one transaction."""
    from ticketing.bookings import holds_repository as holds_repo
    from ticketing.bookings import repository as repo
    from ticketing.catalog.events import repository as events_repo
    from ticketing.db import transaction

    with transaction() as tx:
        event = events_repo.sale_state(tx, event_id, share_lock=True)
        seats = holds_repo.lock_own_holds(tx, user_id, event_id, live_only=True)
        seat_ids = [seat["id"] for seat in seats]
        subtotal = sum(row["price"] for row in repo.seat_prices(tx, seat_ids))
        booking = repo.insert_booking(
            tx,
            user_id=user_id,
            event_id=event_id,
            subtotal=subtotal,
            discount=0,
            currency=event["currency"] if event else "EUR",
            coupon_id=None,
            coupon_code=None,
            ttl_seconds=900,
        )
        repo.insert_items(tx, booking["id"], seat_ids)
        repo.attach_seats(tx, booking["id"], seat_ids, booking["expires_at"])
    return booking


def raw_confirm(booking: dict[str, Any], event_id: UUID) -> dict[str, Any]:
    """The finalising transaction as the repository's statements (a lost version raises Retry)."""
    from ticketing.bookings import repository as repo
    from ticketing.catalog.events import repository as events_repo
    from ticketing.db import transaction

    with transaction() as tx:
        current = repo.find_booking(tx, booking["id"])
        events_repo.sale_state(tx, event_id, share_lock=True)
        confirmed = repo.confirm_booking(tx, booking["id"], current["version"] if current else 0)
        if confirmed is None:
            raise Retry
        repo.mark_seats_booked(tx, booking["id"])
        tx.execute(
            "INSERT INTO payments (booking_id, booking_version, status, amount, currency, provider, reference)"
            " VALUES (:booking_id, :version, 'SUCCEEDED', :amount, :currency, 'test', :reference)",
            booking_id=booking["id"],
            version=current["version"] if current else 0,
            amount=booking["total"],
            currency=booking["currency"],
            reference=f"raw-{booking['id']}",
        )
    return confirmed


def _raw_buy(buyer: Buyer, event_id: UUID, pairs: list[list[UUID]], tally: Tally) -> None:
    """The same three steps as the repository's statements, each in one transaction on a bare connection."""
    from ticketing.errors import Conflict

    rng = random.Random(buyer.rng_seed)

    def as_retry(step: Callable[[], Any]) -> Callable[[], Any]:
        """A Conflict (a NOWAIT lock found taken) is the raw form of the API's 409."""

        def attempt() -> Any:
            try:
                return step()
            except Conflict as error:
                raise Retry from error

        return attempt

    pair = _with_retries(tally, "hold", as_retry(lambda: raw_hold(buyer.user_id, event_id, rng.choice(pairs))))
    booking = pair and _with_retries(tally, "create", as_retry(lambda: raw_create(buyer.user_id, event_id)))
    if booking and _with_retries(tally, "confirm", as_retry(lambda: raw_confirm(booking, event_id))):
        tally.purchases.append(len(pair))


# --- the crowd -----------------------------------------------------------------------------------------------


def _crowd(count: int, run: Callable[[int], None]) -> float:
    """`count` threads released together by a barrier; answers the seconds from release to the last one done."""
    release = threading.Barrier(count + 1)
    finished: list[float] = []

    def body(index: int) -> None:
        release.wait()
        try:
            run(index)
        finally:
            finished.append(time.perf_counter())

    threads = [threading.Thread(target=body, args=(index,), name=f"buyer-{index}") for index in range(count)]
    for thread in threads:
        thread.start()
    release.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join(timeout=HTTP_TIMEOUT_SECONDS * MAX_ATTEMPTS * len(STEPS))
    return (max(finished) if finished else time.perf_counter()) - started


def _database_check(event_id: UUID) -> dict[str, int]:
    from ticketing.db import transaction

    with transaction() as tx:
        sold_twice = tx.value(
            "SELECT count(*) FROM (SELECT bi.event_seat_id FROM booking_items bi"
            " JOIN bookings b ON b.id = bi.booking_id WHERE b.event_id = :event AND b.status = 'CONFIRMED'"
            " GROUP BY bi.event_seat_id HAVING count(*) > 1) twice",
            event=event_id,
        )
        booked = tx.value(
            "SELECT count(*) FROM event_seats WHERE event_id = :event AND status = 'BOOKED'", event=event_id
        )
        confirmed_items = tx.value(
            "SELECT count(*) FROM booking_items bi JOIN bookings b ON b.id = bi.booking_id"
            " WHERE b.event_id = :event AND b.status = 'CONFIRMED'",
            event=event_id,
        )
    return {"sold_twice": int(sold_twice), "booked": int(booked), "confirmed_items": int(confirmed_items)}


@dataclass(frozen=True)
class Outcome:
    tally: Tally
    seconds: float
    check: dict[str, int]

    @property
    def oversold(self) -> int:
        return self.check["sold_twice"] + abs(self.check["booked"] - self.check["confirmed_items"])


def _scenario(clients: int, buyers: int, run: Callable[[int, UUID, list[list[UUID]], Tally], None]) -> Outcome:
    """A fresh event, then `clients` threads released together, each running `run(index, event, pairs, tally)`."""
    event_id, seats = _seed_event(rows=ROWS, seats_per_row=SEATS_PER_ROW)
    pairs = _pairs(seats, buyers)
    tally = Tally()
    seconds = _crowd(clients, lambda index: run(index, event_id, pairs, tally))
    return Outcome(tally, seconds, _database_check(event_id))


def _ms(values: list[float], fraction: float) -> str:
    if not values:
        return "-"
    return f"{(statistics.median(values) if fraction == 0.5 else _percentile(values, fraction)) * 1000:,.0f}"


def _table(http_run: Outcome, raw_run: Outcome, raw_clients: int) -> list[str]:
    def row(name: str, through_http: str, raw: str) -> str:
        return f"| {name} | {through_http} | {raw} |"

    def purchases_per_second(outcome: Outcome) -> float:
        return len(outcome.tally.purchases) / outcome.seconds if outcome.seconds else 0.0

    lines = [
        f"| {BUYERS} buyers at once, 20,000 seats | through the runner (HTTP) | raw SQL ceiling |",
        "|---|---|---|",
        row("clients", str(BUYERS), f"{raw_clients} processes, one connection each"),
        row(
            "purchases / s",
            f"{purchases_per_second(http_run):,.1f}",
            f"{purchases_per_second(raw_run):,.1f}",
        ),
        row("purchases completed", str(len(http_run.tally.purchases)), str(len(raw_run.tally.purchases))),
        row("wall time (s)", f"{http_run.seconds:.1f}", f"{raw_run.seconds:.1f}"),
    ]
    for step in STEPS:
        lines.append(
            row(
                f"{step} p50 / p99 (ms)",
                f"{_ms(http_run.tally.latencies[step], 0.5)} / {_ms(http_run.tally.latencies[step], 0.99)}",
                f"{_ms(raw_run.tally.latencies[step], 0.5)} / {_ms(raw_run.tally.latencies[step], 0.99)}",
            )
        )
        lines.append(
            row(
                f"{step}: 409s retried",
                str(http_run.tally.conflicts.count(step)),
                str(raw_run.tally.conflicts.count(step)),
            )
        )
    lines += [
        row("buyers who gave up (attempts spent)", str(len(http_run.tally.gave_up)), str(len(raw_run.tally.gave_up))),
        row("connection errors", str(len(http_run.tally.connection_errors)), "-"),
        row("other unexpected answers", str(len(http_run.tally.unexpected)), str(len(raw_run.tally.unexpected))),
        row("seats sold (BOOKED in the database)", str(http_run.check["booked"]), str(raw_run.check["booked"])),
        row(
            "seats in more than one CONFIRMED booking",
            str(http_run.check["sold_twice"]),
            str(raw_run.check["sold_twice"]),
        ),
        row(
            "BOOKED seats == CONFIRMED items",
            "yes" if http_run.check["booked"] == http_run.check["confirmed_items"] else "NO",
            "yes" if raw_run.check["booked"] == raw_run.check["confirmed_items"] else "NO",
        ),
        row("oversold", str(http_run.oversold), str(raw_run.oversold)),
    ]
    return lines


def main() -> None:
    from devtools.run_api import running_api

    with bench_setup("onsale_bench") as setup:
        from ticketing.db import transaction

        with transaction() as tx:
            max_connections = int(tx.value("SHOW max_connections"))
        raw_clients = max(1, min(BUYERS, max_connections - SPARE_CONNECTIONS))
        identities = _buyers(BUYERS)
        buyers = [Buyer(user_id, token, rng_seed=index) for index, (user_id, token) in enumerate(identities)]
        with running_api(REPO_ROOT / "template.yaml") as base_url:
            http_run = _scenario(
                len(buyers),
                len(buyers),
                lambda index, event, pairs, tally: HttpBuyer(base_url, buyers[index], tally).buy(event, pairs),
            )
        print(f"through the runner: {len(http_run.tally.purchases)} purchases in {http_run.seconds:.1f} s", flush=True)
        raw_run = _raw_scenario(buyers, raw_clients)
        print(f"raw SQL: {len(raw_run.tally.purchases)} purchases in {raw_run.seconds:.1f} s", flush=True)
        postgres_version = setup.postgres_version
    _write(http_run, raw_run, raw_clients, postgres_version)


def _raw_scenario(buyers: list[Buyer], clients: int) -> Outcome:
    """The crowd as `clients` forked processes (one connection each, released together), sharing the buyers.

    Processes, not threads: pg8000 parses the protocol in Python, and hundreds of threads in one process
    would measure the GIL rather than the database.
    """
    from ticketing.db.connection import close_connection

    event_id, seats = _seed_event(rows=ROWS, seats_per_row=SEATS_PER_ROW)
    pairs = _pairs(seats, len(buyers))
    close_connection()  # a forked child must open its own connection, never reuse the parent's socket
    results = _fork.Queue()
    release = _fork.Barrier(clients + 1)

    def client(share: list[Buyer]) -> None:
        from ticketing.db import transaction

        tally = Tally()
        with transaction() as tx:  # connected before the start: the ceiling pays no connection set-up
            tx.value("SELECT 1")
        release.wait()
        try:
            for buyer in share:
                _raw_buy(buyer, event_id, pairs, tally)
        except Exception as error:  # reported, so the parent never waits for a result that will not come
            tally.unexpected.append(repr(error))
        finally:
            close_connection()
            results.put((tally, time.perf_counter()))

    processes = [_fork.Process(target=client, args=(buyers[index::clients],)) for index in range(clients)]
    for process in processes:
        process.start()
    release.wait()
    started = time.perf_counter()
    finished = [results.get(timeout=HTTP_TIMEOUT_SECONDS * MAX_ATTEMPTS) for _ in processes]
    for process in processes:
        process.join()
    tally = Tally()
    for part, _ in finished:
        tally.absorb(part)
    return Outcome(tally, max(end for _, end in finished) - started, _database_check(event_id))


def _write(http_run: Outcome, raw_run: Outcome, raw_clients: int, postgres_version: str) -> None:
    table = _table(http_run, raw_run, raw_clients)
    ratio = (
        (len(http_run.tally.purchases) / http_run.seconds) / (len(raw_run.tally.purchases) / raw_run.seconds)
        if http_run.seconds and raw_run.seconds and raw_run.tally.purchases
        else 0.0
    )
    summary = (
        f"Through the runner: {ratio:.2f} of the raw-SQL ceiling's purchases per second; "
        f"{len(http_run.tally.connection_errors)} connection errors; {http_run.oversold} oversold."
    )
    if http_run.tally.connection_errors:
        summary += (
            " A connection error is a buyer whose connection the runner refused or reset (a listen backlog"
            " smaller than the crowd): that buyer bought nothing."
        )
    header = [
        "# On-sale benchmark",
        "",
        f"`make bench` (bench/onsale_bench.py; `ONSALE_BUYERS=N` sets the crowd, default 500). {BUYERS} buyers,",
        "one thread and one HTTP connection each, released together by a barrier at a published 20,000-seat event",
        f"(100 rows x 200). Each holds {SEATS_PER_BUYER} seats chosen at random among {2 * BUYERS} front pairs,",
        f"creates the booking and confirms it (`{PAYMENT_TOKEN}`); a 409 is retried up to {MAX_ATTEMPTS} times per",
        "step (a lost hold picks another pair). Latencies are per request, retries included. The ceiling runs the",
        "same crowd and choices as the repository's statements on bare pg8000 connections, from as many forked",
        "client processes as PostgreSQL's max_connections leaves room for (each works through its share of the",
        "buyers). One run each; the database is checked afterwards.",
    ]
    RESULTS.write_text("\n".join([*header, "", *machine_lines(postgres_version), "", *table, "", summary, ""]))
    print(RESULTS.read_text())
    replace_doc_section(
        "On-sale",
        [
            "`make bench` → `bench/onsale_bench.py`, results in `bench/results/onsale.md` (one run of "
            f"{BUYERS} buyers released together over real HTTP through the local runner, next to the same "
            "crowd as raw SQL; same machine as above).",
            "",
            *table,
            "",
            summary,
        ],
    )


if __name__ == "__main__":
    main()
