"""Payments: what a confirm holds of the database while a slow provider answers, and an on-sale's purchases per
second with a 300 ms provider against a 0 ms one, in the same run.

1. Database time per confirm: CONFIRMS bookings, each confirmed in-process with a test card while every call to
   the test provider takes PROVIDER_MS (a token confirm calls it twice: create the intent, confirm it). The
   database time of a confirm is the sum of its own transactions, BEGIN to COMMIT (the test provider's books are
   the provider's, not counted). Goal: p50 at most 30 ms.
2. The on-sale crowd of bench/onsale_bench.py (ONSALE_BUYERS, default 500, over real HTTP through the runner),
   once with a 0 ms provider and once with PROVIDER_MS, each runner given RUNNER_ENVIRONMENTS execution
   environments per function (Lambda scales environments with the load; the runner's default of 8 would make
   the provider's latency the limit, not the database) and warmed up first. Goal: the slow provider's
   purchases per second at least 0.8 of the fast one's.
"""

from __future__ import annotations

import os
import statistics
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from bench.bookings_bench import _buyers, _percentile, _seed_event
from bench.harness import REPO_ROOT, bench_setup, replace_doc_section
from bench.machine import machine_lines
from bench.onsale_bench import BUYERS, Buyer, HttpBuyer, Outcome, _scenario

PROVIDER_MS = 300
CONFIRMS = 60
RUNNER_ENVIRONMENTS = 64
# Warm-up rounds until one takes less than this (no request waited for a cold start), at most WARM_UP_ROUNDS.
WARM_ROUND_SECONDS = 2.0
WARM_UP_ROUNDS = 12

_timing = threading.local()


class _TransactionClock:
    """Sums, per thread, the time from each BEGIN to its COMMIT or ROLLBACK, outside the provider's own calls."""

    def __init__(self) -> None:
        self.total = 0.0

    @contextmanager
    def installed(self) -> Iterator[None]:
        import pg8000.native

        original = pg8000.native.Connection.run
        clock = self

        def run(connection: Any, sql: str, **params: Any) -> Any:
            if getattr(_timing, "in_provider", False):
                return original(connection, sql, **params)
            if sql == "BEGIN":
                _timing.began = time.perf_counter()
            result = original(connection, sql, **params)
            if sql in ("COMMIT", "ROLLBACK"):
                clock.total += time.perf_counter() - _timing.began
            return result

        pg8000.native.Connection.run = run
        try:
            yield
        finally:
            pg8000.native.Connection.run = original


def _provider_calls_marked() -> None:
    """Marks the test provider's calls, so that its own transactions are not counted as the confirm's."""
    from ticketing.payments.test_provider import TestPaymentProvider

    for name in ("create_intent", "confirm_intent", "retrieve_intent", "cancel_intent", "refund"):
        method = getattr(TestPaymentProvider, name)

        def marked(self: Any, *args: Any, __method: Any = method, **kwargs: Any) -> Any:
            _timing.in_provider = True
            try:
                return __method(self, *args, **kwargs)
            finally:
                _timing.in_provider = False

        setattr(TestPaymentProvider, name, marked)


def _database_time_per_confirm(api: Any) -> dict[str, float]:
    from ticketing.config import get_settings

    event_id, seats = _seed_event(rows=10, seats_per_row=CONFIRMS)
    buyers = _buyers(CONFIRMS)
    bookings = []
    for (_, token), seat in zip(buyers, seats, strict=False):
        held = api.post(
            "/api/bookings/hold-seats", json={"eventId": str(event_id), "seatIds": [str(seat)]}, token=token
        )
        created = api.post("/api/bookings/create", json={"eventId": str(event_id)}, token=token)
        if held.status != 200 or created.status != 201:
            raise RuntimeError(f"setup failed: {held.status} {created.status}")
        bookings.append((token, created.json()))
    os.environ["PAYMENT_TEST_LATENCY_MS"] = str(PROVIDER_MS)
    get_settings.cache_clear()
    _provider_calls_marked()
    database, wall = [], []
    clock = _TransactionClock()
    with clock.installed():
        for token, booking in bookings:
            body = {"paymentToken": "tok_visa", "amount": booking["total"], "version": booking["version"]}
            clock.total = 0.0
            started = time.perf_counter()
            answer = api.post(f"/api/bookings/{booking['id']}/confirm", json=body, token=token)
            wall.append(time.perf_counter() - started)
            if answer.status != 200:
                raise RuntimeError(f"confirm answered {answer.status}: {answer.body[:200]!r}")
            database.append(clock.total)
    os.environ.pop("PAYMENT_TEST_LATENCY_MS")
    get_settings.cache_clear()
    return {
        "database_p50_ms": statistics.median(database) * 1000,
        "database_p95_ms": _percentile(database, 0.95) * 1000,
        "wall_p50_ms": statistics.median(wall) * 1000,
    }


def _warm_up(api: Any, base_url: str) -> None:
    """Starts the bookings function's execution environments before the crowd is timed.

    The runner starts one environment of a function at a time (docs/local-runner.md); Lambda starts them in
    parallel. Rounds of RUNNER_ENVIRONMENTS concurrent `pay` calls, each holding an environment for a provider
    call, make it start them all, until a round no longer waits for a cold start.
    """
    import http.client
    from urllib.parse import urlsplit

    address = urlsplit(base_url)
    for _ in range(WARM_UP_ROUNDS):
        payable = _pending_bookings(api, RUNNER_ENVIRONMENTS)

        def pay(token: str, booking_id: str) -> None:
            connection = http.client.HTTPConnection(address.hostname or "127.0.0.1", address.port, timeout=120)
            headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
            connection.request("POST", f"/api/bookings/{booking_id}/pay", body="{}", headers=headers)
            connection.getresponse().read()
            connection.close()

        threads = [threading.Thread(target=pay, args=(token, booking["id"])) for token, booking in payable]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if time.perf_counter() - started < WARM_ROUND_SECONDS:
            return


def _pending_bookings(api: Any, count: int) -> list[tuple[str, dict[str, Any]]]:
    """`count` buyers, each with a PENDING booking of one seat on a fresh event (made in-process)."""
    event_id, seats = _seed_event(rows=1, seats_per_row=count)
    bookings = []
    for (_, token), seat in zip(_buyers(count), seats, strict=False):
        hold = {"eventId": str(event_id), "seatIds": [str(seat)]}
        held = api.post("/api/bookings/hold-seats", json=hold, token=token)
        created = api.post("/api/bookings/create", json={"eventId": str(event_id)}, token=token)
        if held.status != 200 or created.status != 201:
            raise RuntimeError(f"setup failed: {held.status} {created.status}")
        bookings.append((token, created.json()))
    return bookings


def _crowd_with_provider(api: Any, provider_ms: int, buyers: list[Buyer]) -> Outcome:
    from devtools.run_api import running_api

    os.environ["PAYMENT_TEST_LATENCY_MS"] = str(provider_ms)
    os.environ["LOCAL_CONCURRENCY"] = str(RUNNER_ENVIRONMENTS)
    try:
        with running_api(REPO_ROOT / "template.yaml") as base_url:
            _warm_up(api, base_url)
            return _scenario(
                len(buyers),
                len(buyers),
                lambda index, event, pairs, tally: HttpBuyer(base_url, buyers[index], tally).buy(event, pairs),
            )
    finally:
        os.environ.pop("PAYMENT_TEST_LATENCY_MS")
        os.environ.pop("LOCAL_CONCURRENCY")


def main() -> None:
    with bench_setup("payments_bench") as setup:
        confirm = _database_time_per_confirm(setup.api)
        print(f"database time per confirm: {confirm}", flush=True)
        buyers = [Buyer(user_id, token, rng_seed=i) for i, (user_id, token) in enumerate(_buyers(BUYERS))]
        fast = _crowd_with_provider(setup.api, 0, buyers)
        slow = _crowd_with_provider(setup.api, PROVIDER_MS, buyers)
        postgres_version = setup.postgres_version
    rates = {name: len(run.tally.purchases) / run.seconds for name, run in (("fast", fast), ("slow", slow))}
    ratio = rates["slow"] / rates["fast"]
    print(f"purchases/s: 0 ms {rates['fast']:.1f}, {PROVIDER_MS} ms {rates['slow']:.1f}, ratio {ratio:.2f}", flush=True)
    _write(confirm, fast, slow, rates, ratio, postgres_version)


def _write(
    confirm: dict[str, float], fast: Outcome, slow: Outcome, rates: dict[str, float], ratio: float, postgres: str
) -> None:
    def row(name: str, run: Outcome, rate: float) -> str:
        confirms = run.tally.latencies["confirm"]
        p50 = statistics.median(confirms) * 1000 if confirms else 0.0
        errors = len(run.tally.connection_errors) + len(run.tally.unexpected)
        return (
            f"| {name} | {len(run.tally.purchases)} | {run.seconds:.1f} | {rate:.1f} | {p50:,.0f} | {errors} |"
            f" {run.oversold} |"
        )

    body = [
        "`python -m bench payments` (bench/payments_bench.py).",
        "",
        *machine_lines(postgres),
        "",
        f"Database time a confirm holds with a {PROVIDER_MS} ms provider (sum of its own transactions, {CONFIRMS}"
        " confirms in-process, the provider called twice per confirm outside them):",
        "",
        "| figure | measured | goal |",
        "|---|---|---|",
        f"| database time per confirm, p50 | {confirm['database_p50_ms']:.1f} ms | ≤ 30 ms |",
        f"| database time per confirm, p95 | {confirm['database_p95_ms']:.1f} ms | |",
        f"| confirm answered in, p50 | {confirm['wall_p50_ms']:.0f} ms | (two provider calls of {PROVIDER_MS} ms) |",
        "",
        f"{BUYERS} buyers through the runner ({RUNNER_ENVIRONMENTS} environments per function, warmed up), hold →"
        " create → confirm with tok_visa:",
        "",
        "| provider | purchases | seconds | purchases/s | confirm p50 (ms) | errors | oversold |",
        "|---|---|---|---|---|---|---|",
        row("0 ms", fast, rates["fast"]),
        row(f"{PROVIDER_MS} ms", slow, rates["slow"]),
        "",
        f"Ratio {PROVIDER_MS} ms / 0 ms: **{ratio:.2f}** (goal ≥ 0.8).",
    ]
    (REPO_ROOT / "bench" / "results" / "payments.md").write_text("# Payments\n\n" + "\n".join(body) + "\n")
    replace_doc_section("Payments with a slow provider", body)
