"""Cancelling a sold-out event and refunding it: results go to bench/results/refunds.md.

(a) An event with BOOKINGS confirmed, paid bookings (one seat and its ticket each, one buyer each, seeded in
    SQL) is cancelled through the events service the handler calls: time to answer, and statements the cancel
    ran (counted on the driver), per booking. RUNS runs, each on a freshly seeded event. The statement timeout
    is lifted: this machine is shared, and a timeout is a production guard, not what is measured.
(b) The first run's refunds are sent by the refund workers with the test-mode provider (each refund also
    writes the provider's own record), WORKERS workers, for at most DRAIN_BUDGET_SECONDS: the time until all
    are REFUNDED, or, when the budget ends first, the measured rate and the 50,000 time it implies.
(c) A provider that takes 300 ms per call, SLOW_REFUNDS refunds with SLOW_WORKERS workers (scaled down from
    50,000 so the bench stays bounded; the 50,000 figure is extrapolated from the measured rate). Every call
    checks that the calling worker's session holds no row lock and has no open transaction.
"""

from __future__ import annotations

import secrets
import statistics
import threading
import time
from pathlib import Path
from typing import Any
from uuid import UUID

from bench.harness import add_priced_section, bench_setup, write_results

RUNS = 5
BOOKINGS = 50_000
SEATS_PER_ROW = 250
WORKERS = 8
SLOW_REFUNDS = 1_000
SLOW_WORKERS = 50
SLOW_CALL_SECONDS = 0.3
DRAIN_BUDGET_SECONDS = 100
REPO_ROOT = Path(__file__).resolve().parents[1]
RESULTS = REPO_ROOT / "bench" / "results" / "refunds.md"


def _seed_sold_out_event(bookings: int) -> tuple[UUID, Any]:
    """A published event whose `bookings` seats are each in a CONFIRMED, paid booking of its own buyer; answers
    the event and its organizer."""
    from ticketing.auth.principal import Principal, Role
    from ticketing.catalog.events.repository import add_seat_inventory
    from ticketing.db import transaction

    tag = secrets.token_hex(4)
    with transaction() as tx:
        # Seeding is not what is measured: no statement timeout for these bulk loads.
        tx.execute("SET LOCAL statement_timeout = 0")
        organizer = tx.value(
            "INSERT INTO users (email, password_hash, name, role) VALUES (:email, 'x', 'Organizer', 'ORGANIZER')"
            " RETURNING id",
            email=f"organizer-{tag}@example.com",
        )
        venue = tx.value(
            "INSERT INTO venues (name, address, city, country, timezone)"
            " VALUES ('Bench Stadium', '1 Main St', 'Berlin', 'DE', 'UTC') RETURNING id"
        )
        rows = -(-bookings // SEATS_PER_ROW)
        event = tx.value(
            "INSERT INTO events (venue_id, organizer_id, title, category, status, starts_at, ends_at, currency,"
            " max_tickets_per_user, published_at) VALUES (:venue, :organizer, 'Rained Out', 'CONCERT', 'PUBLISHED',"
            " now() + interval '30 days', now() + interval '30 days 2 hours', 'EUR', 10, now() - interval '1 hour')"
            " RETURNING id",
            venue=venue,
            organizer=organizer,
        )
        add_priced_section(tx, venue=venue, event=event, name="Field", rows=rows, seats_per_row=SEATS_PER_ROW)
        add_seat_inventory(tx, event)
        tx.execute(
            "CREATE TEMP TABLE sold ON COMMIT DROP AS"
            " SELECT es.id AS seat_id, gen_random_uuid() AS user_id, gen_random_uuid() AS booking_id"
            " FROM event_seats es WHERE es.event_id = :event ORDER BY es.id LIMIT :bookings",
            event=event,
            bookings=bookings,
        )
        tx.execute(
            "INSERT INTO users (id, email, password_hash, name)"
            " SELECT user_id, 'fan-' || user_id || '@example.com', 'x', 'Fan' FROM sold"
        )
        tx.execute(
            "INSERT INTO bookings (id, user_id, event_id, status, subtotal, total, currency, expires_at,"
            " confirmed_at, version) SELECT booking_id, user_id, :event, 'CONFIRMED', 2500, 2500, 'EUR', now(),"
            " now(), 2 FROM sold",
            event=event,
        )
        tx.execute(
            "INSERT INTO booking_items (booking_id, booking_status, event_seat_id, price)"
            " SELECT booking_id, 'CONFIRMED', seat_id, 2500 FROM sold"
        )
        tx.execute(
            "UPDATE event_seats es SET status = 'BOOKED', held_by = s.user_id, held_until = NULL,"
            " booking_id = s.booking_id, booking_status = 'CONFIRMED' FROM sold s WHERE es.id = s.seat_id"
        )
        tx.execute(
            "INSERT INTO payments (booking_id, status, amount, currency, provider, reference)"
            " SELECT booking_id, 'SUCCEEDED', 2500, 'EUR', 'test', 'ch_test_' || md5(booking_id::text) FROM sold"
        )
        # Confirming a booking issues its tickets (docs/tickets.md): the cancel voids them too.
        tx.execute(
            "INSERT INTO tickets (booking_id, event_id, event_seat_id, holder_id)"
            " SELECT booking_id, :event, seat_id, user_id FROM sold",
            event=event,
        )
    with transaction() as tx:
        # As autovacuum would have by the time a sold-out event is cancelled: planner statistics for the
        # freshly loaded rows (without them the foreign-key cascades plan sequential scans).
        tx.execute("SET LOCAL statement_timeout = 0")
        tx.execute("ANALYZE users, bookings, booking_items, event_seats, payments, tickets")
    return UUID(str(event)), Principal(user_id=UUID(str(organizer)), role=Role.ORGANIZER)


def _cancel(event_id: UUID, organizer: Any) -> dict[str, float]:
    """The cancel as the events handler runs it (the service call; the handler around it is a few ms), timed,
    with the statements it sends counted on the driver."""
    import pg8000.native

    from ticketing.bookings.event_cancellation import cancel_event_bookings
    from ticketing.catalog.events.service import cancel_event

    statements = 0
    run = pg8000.native.Connection.run

    def counted(self: Any, sql: str, **params: Any) -> Any:
        nonlocal statements
        statements += 1
        return run(self, sql, **params)

    backend = _backend_pid()
    pg8000.native.Connection.run = counted
    try:
        server_cpu, client_cpu = _cpu_seconds(backend), time.process_time()
        started = time.perf_counter()
        answer = cancel_event(organizer, event_id, close_bookings=cancel_event_bookings)
        elapsed = time.perf_counter() - started
        cpu = _cpu_seconds(backend) - server_cpu + time.process_time() - client_cpu
    finally:
        pg8000.native.Connection.run = run
    cancellation = answer.cancellation
    if cancellation is None or (cancellation.bookings, cancellation.refunds_pending) != (BOOKINGS, BOOKINGS):
        raise RuntimeError(f"unexpected cancellation {cancellation}")
    return {
        "answer_s": elapsed,
        "answer_cpu_s": cpu,
        "statements": statements,
        "statements_per_booking": statements / BOOKINGS,
    }


def _expand() -> dict[str, float]:
    """What the outbox publisher, woken after the cancel commits, does first: writes the BookingCancelled event
    of each cancelled booking and VOID into each ticket (not part of the cancel's answer; docs/refunds.md)."""
    from ticketing.bookings.event_cancellation import expander_for
    from ticketing.db import transaction
    from ticketing.domain_events.expansion import expand_next

    started = time.perf_counter()
    written = expand_next(expander_for)
    elapsed = time.perf_counter() - started
    if written != BOOKINGS:
        raise RuntimeError(f"the expansion wrote {written} booking events for {BOOKINGS} bookings")
    with transaction() as tx:
        live = tx.value("SELECT count(*) FROM tickets WHERE status <> 'VOID'")
    if live:
        raise RuntimeError(f"{live} tickets are not void after the expansion")
    return {"expand_s": elapsed}


def _backend_pid() -> int:
    """The PostgreSQL backend serving this thread's connection (the one the cancel runs on)."""
    from ticketing.db import transaction

    with transaction() as tx:
        return int(tx.value("SELECT pg_backend_pid()"))


def _cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a local process has used: on a shared machine, the work itself, without the
    waiting for a core that the wall clock also counts."""
    import os

    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _pending() -> int:
    from ticketing.db import transaction

    with transaction() as tx:
        return int(tx.value("SELECT count(*) FROM payments WHERE status = 'REFUND_PENDING'"))


def _empty_tables() -> None:
    """Every run starts from the same empty database, so runs compare."""
    from ticketing.db import transaction

    with transaction() as tx:
        tables = [
            row["tablename"]
            for row in tx.rows(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'schema_migrations'"
            )
        ]
        tx.execute("TRUNCATE " + ", ".join(f'"{table}"' for table in tables) + " CASCADE")


def _drain(provider: Any, workers: int) -> dict[str, float]:
    """Runs the workers until the queue is empty or DRAIN_BUDGET_SECONDS have passed; answers time and count."""
    from ticketing.refunds.worker import drain_with_workers

    before = _pending()
    started = time.perf_counter()
    report = drain_with_workers(provider, deadline=time.monotonic() + DRAIN_BUDGET_SECONDS, workers=workers)
    elapsed = time.perf_counter() - started
    left = _pending()
    if report.refunded != before - left or report.failed or report.retrying:
        raise RuntimeError(f"unexpected drain {report.as_dict()} for {before} pending refunds")
    return {"seconds": elapsed, "refunded": float(report.refunded), "left": float(left)}


class _SlowCheckedProvider:
    """The test provider behind a 300 ms wire; each call first checks its worker holds no lock, no transaction."""

    name = "test"

    def __init__(self) -> None:
        import os

        import pg8000.native

        from ticketing.db.dsn import parse_database_url
        from ticketing.payments.test_provider import TestPaymentProvider

        self._inner = TestPaymentProvider()
        self._monitor = pg8000.native.Connection(**parse_database_url(os.environ["DATABASE_URL"]).as_pg8000_kwargs())
        self._monitor_lock = threading.Lock()
        self._local = threading.local()
        self.calls = 0
        self.violations = 0

    def _own_pid(self) -> int:
        from ticketing.db import transaction

        if not hasattr(self._local, "pid"):
            with transaction() as tx:
                self._local.pid = int(tx.value("SELECT pg_backend_pid()"))
        pid: int = self._local.pid
        return pid

    def charge(self, **_: Any) -> Any:
        raise NotImplementedError

    def refund(self, *, reference: str, amount: int, idempotency_key: str) -> Any:
        from ticketing.db.connection import in_transaction

        pid = self._own_pid()
        with self._monitor_lock:
            held = self._monitor.run(
                "SELECT (SELECT count(*) FROM pg_locks"
                "  WHERE pid = :pid AND mode IN ('RowShareLock', 'RowExclusiveLock'))"
                " + (SELECT count(*) FROM pg_stat_activity WHERE pid = :pid AND state <> 'idle')",
                pid=pid,
            )[0][0]
            self.calls += 1
            self.violations += int(held) + int(in_transaction())
        time.sleep(SLOW_CALL_SECONDS)
        return self._inner.refund(reference=reference, amount=amount, idempotency_key=idempotency_key)

    def close(self) -> None:
        self._monitor.close()


def _slow_run() -> dict[str, float]:
    """SLOW_REFUNDS refunds queued directly (the cancel is measured above), sent through the slow provider."""
    from ticketing.db import transaction

    event_id, _ = _seed_sold_out_event(SLOW_REFUNDS)
    with transaction() as tx:
        tx.execute(
            "UPDATE payments SET status = 'REFUND_PENDING', refund_requested_at = now(), refund_due_at = now()"
            " WHERE booking_id IN (SELECT id FROM bookings WHERE event_id = :event)",
            event=event_id,
        )
    provider = _SlowCheckedProvider()
    try:
        drained = _drain(provider, SLOW_WORKERS)
    finally:
        provider.close()
    if provider.violations:
        raise RuntimeError(f"{provider.violations} provider calls ran while their worker held a lock or transaction")
    if drained["left"]:
        raise RuntimeError(f"{drained['left']:.0f} slow refunds left after {drained['seconds']:.0f} s")
    elapsed = drained["seconds"]
    rate = SLOW_REFUNDS / elapsed
    return {
        "slow_s": elapsed,
        "slow_rate": rate,
        "slow_50k_extrapolated_s": BOOKINGS / rate,
        "slow_violations": float(provider.violations),
        "slow_calls": float(provider.calls),
    }


def _format(name: str, values: list[float], unit: str, digits: int = 2) -> str:
    median = statistics.median(values)
    return f"| {name} | {median:,.{digits}f} {unit} | {min(values):,.{digits}f} - {max(values):,.{digits}f} |"


def main() -> None:
    import os

    os.environ["DB_STATEMENT_TIMEOUT_MS"] = "0"
    from ticketing.payments.test_provider import TestPaymentProvider

    with bench_setup("refunds_bench") as setup:
        runs = []
        drained: dict[str, float] = {}
        for run in range(RUNS):
            _empty_tables()
            event_id, organizer = _seed_sold_out_event(BOOKINGS)
            runs.append({**_cancel(event_id, organizer), **_expand()})
            print(f"run {run + 1}: {runs[-1]}", flush=True)
            if run == 0:
                drained = _drain(TestPaymentProvider(), WORKERS)
                print(f"test provider drain: {drained}", flush=True)
        _empty_tables()
        slow = _slow_run()
        postgres_version = setup.postgres_version

    def column(name: str) -> list[float]:
        return [run[name] for run in runs]

    header = [
        "# Refunds benchmark",
        "",
        f"Load average when it ended (2 cores, shared with other work): {os.getloadavg()[0]:.1f}.",
        "",
        f"`make bench` → `bench/refunds_bench.py`: cancel an event with {BOOKINGS:,} confirmed, paid bookings (a",
        "ticket each),",
        f"through the events service in-process (medians of {RUNS} runs, each on a freshly seeded event), then send",
        "the refunds.",
        f"The 300 ms provider case is scaled down to {SLOW_REFUNDS:,} refunds with {SLOW_WORKERS} workers and",
        "extrapolated linearly (the provider's latency, not the database, is the bound there).",
    ]
    rows = [
        _format(f"cancel {BOOKINGS:,} bookings: time to answer", column("answer_s"), "s"),
        _format(
            "the same, CPU time used (database backend + Python), i.e. the answer on idle cores",
            column("answer_cpu_s"),
            "s",
        ),
        _format("statements the cancel ran (whole request)", column("statements"), "", 0),
        _format("statements per booking", column("statements_per_booking"), "", 4),
        _format(
            f"after commit, outside the answer: the outbox publisher writes the {BOOKINGS:,} BookingCancelled events"
            f" and VOID into the {BOOKINGS:,} tickets",
            column("expand_s"),
            "s",
        ),
        _format(
            f"refunds sent by {WORKERS} workers, test provider, in {drained['seconds']:.0f} s"
            f" ({drained['left']:,.0f} of {BOOKINGS:,} left)",
            [drained["refunded"]],
            "",
            0,
        ),
        _format(f"refunds/s, test provider, {WORKERS} workers", [drained["refunded"] / drained["seconds"]], "", 0),
        _format(
            f"all {BOOKINGS:,} refunds done, test provider, {WORKERS} workers"
            + (" (extrapolated from the rate)" if drained["left"] else ""),
            [BOOKINGS * drained["seconds"] / drained["refunded"]],
            "s",
            0,
        ),
        _format(f"{SLOW_REFUNDS:,} refunds, 300 ms provider, {SLOW_WORKERS} workers", [slow["slow_s"]], "s"),
        _format("refunds/s, 300 ms provider", [slow["slow_rate"]], "", 1),
        _format(
            f"{BOOKINGS:,} refunds, 300 ms provider, {SLOW_WORKERS} workers (extrapolated)",
            [slow["slow_50k_extrapolated_s"]],
            "s",
            0,
        ),
        _format(
            f"of {slow['slow_calls']:,.0f} provider calls, made while their worker held a row lock or transaction",
            [slow["slow_violations"]],
            "",
            0,
        ),
    ]
    write_results(RESULTS, header, postgres_version, rows)
