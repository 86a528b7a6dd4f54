"""Bookings hot paths: hold-seats under concurrent clients, through the handler vs the bare SQL, hold-best
next to hold-seats on a 100,000-seat event, and the expiry sweep of 100,000 expired holds. Medians of RUNS
runs go to bench/results/bookings.md; the best-available crowd over HTTP runs once.

(a) CLIENTS forked processes each place HOLDS_PER_CLIENT holds of SEATS_PER_HOLD distinct seats, all at once:
    once through the real Lambda handler in-process (template routing, proxy event, JWT, validation), once as
    the same transaction on a bare connection (the repository's statements, no handler), on fresh events.
(b) 100,000 seats held and expired with one UPDATE, then one `sweep()` frees them in batches of 1,000.
(c) On fresh 100,000-seat events (4 sections x 250 rows x 100 seats), CLIENTS processes each place
    BEST_HOLDS_PER_CLIENT holds of BEST_QUANTITY seats: hold-seats with seats picked in advance, then hold-best
    choosing them, both through the handler; p50 side by side.
(d) The crowd: BEST_CROWD (env `BENCH_BEST_CROWD`, default 1,000) buyers of 2-6 seats each ask hold-best at
    the same moment, over real HTTP through the local runner, on a 20,000-seat event; first-try successes,
    p99, and checks that every block is adjacent, distinct and strands no seat where the rule allows.
"""

from __future__ import annotations

import multiprocessing
import os
import secrets
import statistics
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from uuid import UUID

from bench.harness import add_priced_section, bench_setup, write_results

RUNS = 3
CLIENTS = 8
HOLDS_PER_CLIENT = 150
SEATS_PER_HOLD = 2
# maxTicketsPerUser is at most 100, so each client rotates through buyers.
HOLDS_PER_BUYER = 40
SWEEP_ROWS, SWEEP_SEATS_PER_ROW = 500, 200
BEST_SECTIONS, BEST_ROWS, BEST_SEATS_PER_ROW = 4, 250, 100
BEST_HOLDS_PER_CLIENT, BEST_QUANTITY = 30, 4
CROWD_SECTIONS, CROWD_ROWS, CROWD_SEATS_PER_ROW = 4, 50, 100
CROWD_CLIENT_PROCESSES = 8
CROWD_MAX_ATTEMPTS = 5
REPO_ROOT = Path(__file__).resolve().parents[1]
RESULTS = REPO_ROOT / "bench" / "results" / "bookings.md"
BENCHMARKS_DOC = REPO_ROOT / "docs" / "benchmarks.md"

_fork = multiprocessing.get_context("fork")


def _seed_event(rows: int, seats_per_row: int, sections: int = 1) -> tuple[UUID, list[UUID]]:
    """A published, on-sale event with `sections` sections of rows x seats_per_row seats, straight in SQL."""
    from ticketing.catalog.events.repository import add_seat_inventory
    from ticketing.db import transaction

    with transaction() as tx:
        organizer = tx.value(
            "INSERT INTO users (email, password_hash, name, role) VALUES (:email, 'x', 'Organizer', 'ORGANIZER')"
            " RETURNING id",
            email=f"organizer-{secrets.token_hex(4)}@example.com",
        )
        venue = tx.value(
            "INSERT INTO venues (name, address, city, country, timezone)"
            " VALUES ('Bench Arena', '1 Main St', 'Berlin', 'DE', 'UTC') RETURNING id"
        )
        event = tx.value(
            "INSERT INTO events (venue_id, organizer_id, title, category, status, starts_at, ends_at, currency,"
            " max_tickets_per_user, published_at) VALUES (:venue, :organizer, 'Bench Night', 'CONCERT', 'PUBLISHED',"
            " now() + interval '30 days', now() + interval '30 days 2 hours', 'EUR', 100, now() - interval '1 hour')"
            " RETURNING id",
            venue=venue,
            organizer=organizer,
        )
        for number in range(1, sections + 1):
            add_priced_section(
                tx, venue=venue, event=event, name=f"Block {number}", rows=rows, seats_per_row=seats_per_row
            )
        add_seat_inventory(tx, event)
        seats = [row["id"] for row in tx.rows("SELECT id FROM event_seats WHERE event_id = :e ORDER BY id", e=event)]
        tx.execute("ANALYZE event_seats")
        tx.execute("ANALYZE venue_seats")
    return event, seats


def _buyers(count: int) -> list[tuple[UUID, str]]:
    """Buyers with access tokens, inserted directly (bcrypt is not what is measured here)."""
    from ticketing.auth.principal import Principal, Role
    from ticketing.auth.tokens import issue_access_token
    from ticketing.db import transaction

    with transaction() as tx:
        ids = [
            tx.value(
                "INSERT INTO users (email, password_hash, name) VALUES (:email, 'x', 'Buyer') RETURNING id",
                email=f"buyer-{secrets.token_hex(6)}@example.com",
            )
            for _ in range(count)
        ]
    return [(user_id, issue_access_token(Principal(user_id=user_id, role=Role.USER))) for user_id in ids]


def _hold_through_handler(api: Any, event_id: UUID, work: list[tuple[str, list[UUID]]]) -> list[float]:
    latencies = []
    for token, seats in work:
        started = time.perf_counter()
        response = api.post(
            "/api/bookings/hold-seats", json={"eventId": str(event_id), "seatIds": [str(s) for s in seats]}, token=token
        )
        latencies.append(time.perf_counter() - started)
        assert response.status == 200, response.body
    return latencies


def _hold_as_bare_sql(event_id: UUID, work: list[tuple[UUID, list[UUID]]]) -> list[float]:
    """The hold's transaction, statement for statement, without the handler and the domain checks around it."""
    from ticketing.bookings import holds_repository as holds_repo
    from ticketing.catalog.events import repository as events_repo
    from ticketing.db import transaction

    latencies = []
    for user_id, seats in work:
        started = time.perf_counter()
        with transaction() as tx:
            events_repo.sale_state(tx, event_id)
            holds_repo.try_lock_buyer(tx, user_id, event_id)
            holds_repo.lock_seats(tx, event_id, sorted(seats))
            holds_repo.count_tickets(tx, user_id, event_id)
            holds_repo.hold_seats(tx, seats, user_id, 600)
        latencies.append(time.perf_counter() - started)
    return latencies


def _hold_best_through_handler(api: Any, event_id: UUID, work: list[tuple[str, int]]) -> list[float]:
    """Each hold-best as a buyer sees it: a SEATS_LOCKED answer is retried at once (bounded), time included."""
    latencies = []
    for token, quantity in work:
        started = time.perf_counter()
        for _ in range(CROWD_MAX_ATTEMPTS):
            body = {"eventId": str(event_id), "quantity": quantity}
            response = api.post("/api/bookings/hold-best", json=body, token=token)
            if response.error_code != "SEATS_LOCKED":
                break
        latencies.append(time.perf_counter() - started)
        assert response.status == 200, response.body
    return latencies


def _in_processes_any(target: Callable[..., Any], args_list: list[tuple[Any, ...]]) -> list[Any]:
    """target(*args) in one forked process each, released together; their results in no particular order."""
    from ticketing.db.connection import close_connection

    close_connection()  # a forked child must open its own connection, never reuse the parent's socket
    results = _fork.Queue()
    start = _fork.Barrier(len(args_list))

    def child(args: tuple[Any, ...]) -> None:
        start.wait()
        results.put(target(*args))

    processes = [_fork.Process(target=child, args=(args,)) for args in args_list]
    for process in processes:
        process.start()
    collected = [results.get(timeout=600) for _ in processes]
    for process in processes:
        process.join()
        assert process.exitcode == 0
    return collected


def _in_processes(target: Callable[..., list[float]], args_list: list[tuple[Any, ...]]) -> list[float]:
    return [latency for latencies in _in_processes_any(target, args_list) for latency in latencies]


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def _hold_run(api: Any) -> dict[str, float]:
    holds = CLIENTS * HOLDS_PER_CLIENT
    seats_needed = holds * SEATS_PER_HOLD
    buyers_per_client = -(-HOLDS_PER_CLIENT // HOLDS_PER_BUYER)
    figures: dict[str, float] = {}
    for mode in ("handler", "sql"):
        event_id, seats = _seed_event(rows=seats_needed // 100 + 1, seats_per_row=100)
        buyers = _buyers(CLIENTS * buyers_per_client)
        _warm(api, buyers[0][1])
        args = []
        for client in range(CLIENTS):
            work = []
            for i in range(HOLDS_PER_CLIENT):
                first = (client * HOLDS_PER_CLIENT + i) * SEATS_PER_HOLD
                user_id, token = buyers[client * buyers_per_client + i // HOLDS_PER_BUYER]
                work.append((token if mode == "handler" else user_id, seats[first : first + SEATS_PER_HOLD]))
            args.append((api, event_id, work) if mode == "handler" else (event_id, work))
        started = time.perf_counter()
        latencies = _in_processes(_hold_through_handler if mode == "handler" else _hold_as_bare_sql, args)
        elapsed = time.perf_counter() - started
        figures[f"{mode} p50 (ms)"] = statistics.median(latencies) * 1000
        figures[f"{mode} p99 (ms)"] = _percentile(latencies, 0.99) * 1000
        figures[f"{mode} holds/s"] = holds / elapsed
    figures["handler/sql p50 ratio"] = figures["handler p50 (ms)"] / figures["sql p50 (ms)"]
    figures["handler/sql holds/s ratio"] = figures["handler holds/s"] / figures["sql holds/s"]
    return figures


def _warm(api: Any, token: str) -> None:
    """Loads the bookings function before the clients fork, so no client measures a cold start."""
    assert api.get("/api/bookings", token=token).status == 200


def _best_run(api: Any) -> dict[str, float]:
    """hold-seats and hold-best side by side on fresh 100,000-seat events, CLIENTS at once."""
    per_buyer = 100 // BEST_QUANTITY
    buyers_per_client = -(-BEST_HOLDS_PER_CLIENT // per_buyer)
    figures: dict[str, float] = {}
    for mode in ("hold-seats", "hold-best"):
        event_id, seats = _seed_event(BEST_ROWS, BEST_SEATS_PER_ROW, sections=BEST_SECTIONS)
        buyers = _buyers(CLIENTS * buyers_per_client)
        _warm(api, buyers[0][1])
        args: list[tuple[Any, ...]] = []
        for client in range(CLIENTS):
            tokens = [buyers[client * buyers_per_client + i // per_buyer][1] for i in range(BEST_HOLDS_PER_CLIENT)]
            if mode == "hold-best":
                args.append((api, event_id, [(token, BEST_QUANTITY) for token in tokens]))
            else:
                first = client * BEST_HOLDS_PER_CLIENT * BEST_QUANTITY
                picks = [seats[first + i * BEST_QUANTITY : first + (i + 1) * BEST_QUANTITY] for i in range(len(tokens))]
                args.append((api, event_id, list(zip(tokens, picks, strict=True))))
        latencies = _in_processes(_hold_best_through_handler if mode == "hold-best" else _hold_through_handler, args)
        figures[f"{mode} 100k p50 (ms)"] = statistics.median(latencies) * 1000
        figures[f"{mode} 100k p99 (ms)"] = _percentile(latencies, 0.99) * 1000
    figures["hold-best/hold-seats p50 ratio"] = figures["hold-best 100k p50 (ms)"] / figures["hold-seats 100k p50 (ms)"]
    return figures


def _sweep_run(event_id: UUID, holder: UUID) -> dict[str, float]:
    from ticketing.bookings.expiry import sweep
    from ticketing.db import transaction

    with transaction() as tx:
        tx.execute(
            "UPDATE event_seats SET status = 'HELD', held_by = :holder, held_until = now() - interval '1 second'"
            " WHERE event_id = :event",
            holder=holder,
            event=event_id,
        )
        tx.execute("ANALYZE event_seats")
    started = time.perf_counter()
    report = sweep(time_budget_seconds=600)
    seconds = time.perf_counter() - started
    assert report.finished, report
    assert report.released_holds == SWEEP_ROWS * SWEEP_SEATS_PER_ROW, report
    return {
        "sweep of 100,000 expired holds (s)": seconds,
        "sweep holds/s": report.released_holds / seconds,
        "sweep batches": report.batches,
    }


def _crowd_buyer(base_url: str, token: str, event_id: str, quantity: int, go: threading.Event) -> dict[str, Any]:
    """One buyer: hold-best once, retrying SEATS_LOCKED and refused connections a bounded number of times."""
    from devtools.api_client import HttpApi

    api = HttpApi(base_url)
    go.wait()
    latencies, outcome = [], "error"
    for _ in range(CROWD_MAX_ATTEMPTS):
        started = time.perf_counter()
        try:
            response = api.post(
                "/api/bookings/hold-best", json={"eventId": event_id, "quantity": quantity}, token=token
            )
        except OSError:
            outcome = "connection error"
        else:
            outcome = "ok" if response.status == 200 else (response.error_code or str(response.status))
        latencies.append(time.perf_counter() - started)
        if outcome not in ("SEATS_LOCKED", "connection error"):
            break
        time.sleep(0.05 * len(latencies))
    return {"outcome": outcome, "attempts": len(latencies), "latencies": latencies}


def _crowd_process(base_url: str, event_id: str, work: list[tuple[str, int]]) -> list[dict[str, Any]]:
    """Many buyers in one client process, each on its own thread, released together."""
    go = threading.Event()
    results: list[dict[str, Any]] = []
    lock = threading.Lock()

    def buyer(token: str, quantity: int) -> None:
        result = _crowd_buyer(base_url, token, event_id, quantity, go)
        with lock:
            results.append(result)

    threads = [threading.Thread(target=buyer, args=item) for item in work]
    for thread in threads:
        thread.start()
    go.set()
    for thread in threads:
        thread.join()
    return results


def _crowd_checks(event_id: UUID) -> dict[str, float]:
    """From the database: every buyer's seats adjacent in one row, no seat twice, stranded single seats."""
    from ticketing.db import transaction

    with transaction() as tx:
        blocks = tx.rows(
            "SELECT es.held_by, count(*) AS seats, count(DISTINCT (vs.section_id, vs.row_index)) AS rows,"
            " max(vs.number) - min(vs.number) + 1 AS span"
            " FROM event_seats es JOIN venue_seats vs ON vs.id = es.venue_seat_id"
            " WHERE es.event_id = :event AND es.status = 'HELD' GROUP BY es.held_by",
            event=event_id,
        )
        # A free seat whose neighbours on both sides are taken or the row's end.
        stranded = tx.value(
            "SELECT count(*) FROM ("
            " SELECT es.status, lag(es.status, 1, 'END') OVER w AS before, lead(es.status, 1, 'END') OVER w AS after"
            " FROM event_seats es JOIN venue_seats vs ON vs.id = es.venue_seat_id WHERE es.event_id = :event"
            " WINDOW w AS (PARTITION BY vs.section_id, vs.row_index ORDER BY vs.number)) seat"
            " WHERE status = 'AVAILABLE' AND before <> 'AVAILABLE' AND after <> 'AVAILABLE'",
            event=event_id,
        )
        free = tx.value("SELECT count(*) FROM event_seats WHERE event_id = :e AND status = 'AVAILABLE'", e=event_id)
    adjacent = sum(1 for b in blocks if b["rows"] == 1 and b["span"] == b["seats"])
    return {
        "buyers holding seats": len(blocks),
        "blocks adjacent in one row": adjacent,
        "seats held": sum(b["seats"] for b in blocks),
        "stranded single free seats": stranded,
        "free seats left": free,
    }


def crowd_run(template: Path, crowd: int) -> dict[str, float]:
    """`crowd` best-available buyers of 2-6 seats at once over HTTP through the local runner, 20k seats."""
    from devtools.run_api import running_api

    event_id, _ = _seed_event(CROWD_ROWS, CROWD_SEATS_PER_ROW, sections=CROWD_SECTIONS)
    tokens = [token for _, token in _buyers(crowd)]
    quantities = [2 + i % 5 for i in range(crowd)]
    processes = min(CROWD_CLIENT_PROCESSES, crowd)
    work = [list(zip(tokens, quantities, strict=True))[p::processes] for p in range(processes)]
    with running_api(template) as base_url:
        started = time.perf_counter()
        per_process = _in_processes_any(_crowd_process, [(base_url, str(event_id), items) for items in work])
        elapsed = time.perf_counter() - started
    results = [result for batch in per_process for result in batch]
    latencies = [latency for result in results for latency in result["latencies"]]
    outcomes = [result["outcome"] for result in results]
    return {
        "crowd buyers": crowd,
        "seats asked": sum(quantities),
        "got seats on the first try": sum(1 for r in results if r["outcome"] == "ok" and r["attempts"] == 1),
        "got seats in the end": outcomes.count("ok"),
        "refused NO_ADJACENT_SEATS": outcomes.count("NO_ADJACENT_SEATS"),
        "still SEATS_LOCKED after retries": outcomes.count("SEATS_LOCKED"),
        "connection errors (final)": outcomes.count("connection error"),
        # Every buyer is counted somewhere: the rest is the gateway's own answer (a 504 after the function's
        # timeout when the two cores cannot serve the crowd in time).
        "other answers (gateway 504)": sum(
            1 for outcome in outcomes if outcome not in ("ok", "NO_ADJACENT_SEATS", "SEATS_LOCKED", "connection error")
        ),
        "request p50 (ms)": statistics.median(latencies) * 1000,
        "request p99 (ms)": _percentile(latencies, 0.99) * 1000,
        "whole crowd served in (s)": elapsed,
        **_crowd_checks(event_id),
    }


def _format(name: str, values: list[float]) -> str:
    median = statistics.median(values)
    return f"| {name} | {median:,.2f} | {min(values):,.2f} to {max(values):,.2f} |"


def _append_to_benchmarks_doc(summary: dict[str, float], crowd: dict[str, float], postgres_version: str) -> None:
    section = "\n".join(
        [
            "",
            "## Bookings",
            "",
            "`make bench` → `bench/bookings_bench.py`, results in `bench/results/bookings.md` (medians of "
            f"{RUNS} runs, embedded PostgreSQL {postgres_version}, same machine as above).",
            "",
            "| measure | median |",
            "|---|---|",
            f"| hold-seats through the handler, {CLIENTS} concurrent clients, p50 / p99 |"
            f" {summary['handler p50 (ms)']:.1f} ms / {summary['handler p99 (ms)']:.1f} ms |",
            f"| the same transaction as bare SQL, p50 / p99 |"
            f" {summary['sql p50 (ms)']:.1f} ms / {summary['sql p99 (ms)']:.1f} ms |",
            f"| handler / bare SQL (p50) | {summary['handler/sql p50 ratio']:.1f}x |",
            f"| holds/s through the handler / as bare SQL | {summary['handler holds/s']:,.0f} /"
            f" {summary['sql holds/s']:,.0f} |",
            f"| expiry sweep of 100,000 expired holds | {summary['sweep of 100,000 expired holds (s)']:.1f} s"
            f" ({summary['sweep holds/s']:,.0f} holds/s, batches of 1,000) |",
            f"| hold-best / hold-seats p50 on a 100,000-seat event ({CLIENTS} clients; goal <= 2) |"
            f" {summary['hold-best 100k p50 (ms)']:.1f} ms / {summary['hold-seats 100k p50 (ms)']:.1f} ms ="
            f" {summary['hold-best/hold-seats p50 ratio']:.2f}x |",
            f"| hold-seats throughput through the handler / as bare SQL ({CLIENTS} clients; goal >= 0.5) |"
            f" {summary['handler/sql holds/s ratio']:.2f} |",
            f"| best-available crowd over HTTP: {crowd['crowd buyers']:,.0f} buyers of 2-6 seats, 20,000 seats |"
            f" {crowd['got seats on the first try']:,.0f} on the first try, {crowd['got seats in the end']:,.0f} in the"
            f" end, {crowd['other answers (gateway 504)']:,.0f} gateway 504s;"
            f" request p99 {crowd['request p99 (ms)']:,.0f} ms; {crowd['blocks adjacent in one row']:,.0f}"
            f" blocks adjacent of {crowd['buyers holding seats']:,.0f}; {crowd['stranded single free seats']:,.0f}"
            " stranded single seats |",
            "",
        ]
    )
    text = BENCHMARKS_DOC.read_text() if BENCHMARKS_DOC.exists() else "# Benchmarks\n"
    head, marker, tail = text.partition("\n## Bookings\n")
    if marker:  # replace the previous figures, keep any section after them
        rest = tail.split("\n## ", 1)
        text = head + ("\n## " + rest[1] if len(rest) > 1 else "")
    BENCHMARKS_DOC.write_text(text.rstrip("\n") + "\n" + section)


def main() -> None:
    with bench_setup("bookings_bench") as setup:
        api, postgres_version = setup.api, setup.postgres_version
        sweep_event, _ = _seed_event(SWEEP_ROWS, SWEEP_SEATS_PER_ROW)
        sweep_holder = _buyers(1)[0][0]
        runs = []
        for run in range(1, RUNS + 1):
            runs.append({**_hold_run(api), **_best_run(api), **_sweep_run(sweep_event, sweep_holder)})
            print(f"run {run}/{RUNS}: " + ", ".join(f"{k}={v:,.2f}" for k, v in runs[-1].items()), flush=True)
        crowd = crowd_run(REPO_ROOT / "template.yaml", int(os.environ.get("BENCH_BEST_CROWD", "1000")))
        print("crowd: " + ", ".join(f"{k}={v:,.2f}" for k, v in crowd.items()), flush=True)
    summary = {name: statistics.median(run[name] for run in runs) for name in runs[0]}
    header = [
        "# Bookings benchmark",
        "",
        "`make bench` (bench/bookings_bench.py). (a) hold-seats: "
        f"{CLIENTS} forked client processes x {HOLDS_PER_CLIENT} holds of {SEATS_PER_HOLD} distinct seats, started",
        "together, through the real Lambda handler in-process (template routing, API Gateway proxy event, JWT,",
        "validation, JSON), vs the same transaction's statements on a bare connection; fresh events each time.",
        f"(b) the expiry sweep of {SWEEP_ROWS * SWEEP_SEATS_PER_ROW:,} expired holds (batches of 1,000, SKIP LOCKED).",
        f"Median of {RUNS} runs, with the range. Embedded PostgreSQL on the same machine, no network.",
    ]
    header += [
        f"(c) hold-best next to hold-seats on fresh {BEST_SECTIONS * BEST_ROWS * BEST_SEATS_PER_ROW:,}-seat events:"
        f" {CLIENTS} client processes x {BEST_HOLDS_PER_CLIENT} holds of {BEST_QUANTITY} seats through the handler.",
        f"(d) the crowd, run once: {crowd['crowd buyers']:,.0f} buyers of 2-6 seats asking hold-best at the same moment"
        f" over HTTP through the local runner (`devtools.run_api.running_api`), on a"
        f" {CROWD_SECTIONS * CROWD_ROWS * CROWD_SEATS_PER_ROW:,}-seat event; SEATS_LOCKED and refused connections",
        f"retried up to {CROWD_MAX_ATTEMPTS} times; adjacency and stranded seats checked in the database afterwards.",
    ]
    crowd_rows = ["", "| crowd measure | value |", "|---|---|", *(f"| {k} | {v:,.2f} |" for k, v in crowd.items())]
    table = [_format(name, [run[name] for run in runs]) for name in runs[0]]
    write_results(RESULTS, header, postgres_version, [*table, *crowd_rows])
    _append_to_benchmarks_doc(summary, crowd, postgres_version)


if __name__ == "__main__":
    main()
