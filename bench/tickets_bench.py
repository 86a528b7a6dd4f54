"""Check-in at the gates: check-ins per second through the handler and p99 under GATES concurrent gates.
Medians of RUNS runs go to bench/results/tickets.md and a section of docs/benchmarks.md.

(a) GATES forked processes (gates) each check in SCANS_PER_GATE distinct tickets, all at once, through the real
    Lambda handler in-process (template routing, proxy event, JWT, validation, Ed25519 verification, the
    conditional UPDATE, the outbox row, JSON), vs the same conditional UPDATE on a bare connection (the floor).
(b) contested: every gate scans the same SCANS_PER_GATE tickets in the same order through the handler; each
    ticket must be admitted exactly once (asserted), the others answer 409 ALREADY_CHECKED_IN.
(c) one offline batch of 500 scans through the handler.
"""

from __future__ import annotations

import multiprocessing
import os
import secrets
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from bench.harness import bench_setup, replace_doc_section, write_results

RUNS = 3
GATES = 20
SCANS_PER_GATE = 20
BATCH_SIZE = 500
REPO_ROOT = Path(__file__).resolve().parents[1]
RESULTS = REPO_ROOT / "bench" / "results" / "tickets.md"

_fork = multiprocessing.get_context("fork")


def _sold_out_event(tickets: int) -> tuple[UUID, str, list[tuple[UUID, str]]]:
    """A published event whose `tickets` seats are one CONFIRMED booking with its tickets, straight in SQL.

    Answers the event id, an organizer's access token and (ticket id, code) per ticket.
    """
    from ticketing.auth.principal import Principal, Role
    from ticketing.auth.tokens import issue_access_token
    from ticketing.db import transaction
    from ticketing.tickets import repository as tickets_repo
    from ticketing.tickets.codes import sign

    with transaction() as tx:
        organizer = tx.value(
            "INSERT INTO users (email, password_hash, name, role) VALUES (:email, 'x', 'Organizer', 'ORGANIZER')"
            " RETURNING id",
            email=f"organizer-{secrets.token_hex(4)}@example.com",
        )
        buyer = tx.value(
            "INSERT INTO users (email, password_hash, name) VALUES (:email, 'x', 'Buyer') RETURNING id",
            email=f"buyer-{secrets.token_hex(4)}@example.com",
        )
        venue = tx.value(
            "INSERT INTO venues (name, address, city, country, timezone)"
            " VALUES ('Bench Arena', '1 Main St', 'Berlin', 'DE', 'UTC') RETURNING id"
        )
        section = tx.value(
            "INSERT INTO sections (venue_id, name, rows, seats_per_row, default_price)"
            " VALUES (:venue, 'Floor', 1, :seats, 2500) RETURNING id",
            venue=venue,
            seats=tickets,
        )
        tx.execute(
            "INSERT INTO venue_seats (section_id, row_index, row_label, number)"
            " SELECT :section, 1, 'A', n FROM generate_series(1, :seats) n",
            section=section,
            seats=tickets,
        )
        event = tx.value(
            "INSERT INTO events (venue_id, organizer_id, title, category, status, starts_at, ends_at, currency,"
            " published_at) VALUES (:venue, :organizer, 'Bench Night', 'CONCERT', 'PUBLISHED',"
            " now() + interval '1 hour', now() + interval '3 hours', 'EUR', now() - interval '1 day') RETURNING id",
            venue=venue,
            organizer=organizer,
        )
        tx.execute(
            "INSERT INTO event_sections (event_id, section_id, price) VALUES (:event, :section, 2500)",
            event=event,
            section=section,
        )
        booking = tx.value(
            "INSERT INTO bookings (user_id, event_id, status, subtotal, total, currency, expires_at, confirmed_at)"
            " VALUES (:buyer, :event, 'CONFIRMED', :total, :total, 'EUR', now(), now()) RETURNING id",
            buyer=buyer,
            event=event,
            total=2500 * tickets,
        )
        tx.execute(
            "INSERT INTO event_seats (event_id, section_id, venue_seat_id, status, booking_id, booking_status)"
            " SELECT :event, :section, id, 'BOOKED', :booking, 'CONFIRMED'"
            " FROM venue_seats WHERE section_id = :section",
            event=event,
            section=section,
            booking=booking,
        )
        tx.execute(
            "INSERT INTO booking_items (booking_id, booking_status, event_seat_id, price)"
            " SELECT :booking, 'CONFIRMED', id, 2500 FROM event_seats WHERE event_id = :event",
            booking=booking,
            event=event,
        )
        tickets_repo.issue_for_booking(tx, booking)
        ids = [row["id"] for row in tx.rows("SELECT id FROM tickets WHERE event_id = :e ORDER BY id", e=event)]
    token = issue_access_token(Principal(user_id=organizer, role=Role.ORGANIZER))
    return event, token, [(ticket_id, sign(ticket_id, event)) for ticket_id in ids]


def _scan_through_handler(api: Any, event_id: UUID, token: str, codes: list[str]) -> list[tuple[float, int]]:
    answers = []
    for code in codes:
        started = time.perf_counter()
        response = api.post(f"/api/events/{event_id}/check-in", json={"code": code}, token=token)
        answers.append((time.perf_counter() - started, response.status))
        assert response.status in (200, 409), response.body
    return answers


def _scan_as_bare_sql(event_id: UUID, gate_user: UUID, ticket_ids: list[UUID]) -> list[tuple[float, int]]:
    """The check-in's conditional UPDATE alone, one transaction per scan: the floor under the handler."""
    from ticketing.db import transaction
    from ticketing.tickets import repository as repo

    answers = []
    for ticket_id in ticket_ids:
        started = time.perf_counter()
        with transaction() as tx:
            admitted = repo.check_in(tx, event_id, [(ticket_id, None, None)], gate_user_id=gate_user)
        answers.append((time.perf_counter() - started, 200 if admitted else 409))
    return answers


def _in_processes(target: Callable[..., list[tuple[float, int]]], args_list: list[tuple[Any, ...]]) -> list[Any]:
    from ticketing.db.connection import close_connection

    close_connection()  # a forked child must open its own connection, never reuse the parent's socket
    results = _fork.Queue()
    start = _fork.Barrier(len(args_list))

    def child(args: tuple[Any, ...]) -> None:
        start.wait()
        try:
            results.put(target(*args))
        except BaseException as error:  # reported to the parent, which stops the benchmark
            results.put(repr(error))

    processes = [_fork.Process(target=child, args=(args,)) for args in args_list]
    for process in processes:
        process.start()
    collected = [results.get(timeout=600) for _ in processes]
    failures = [result for result in collected if isinstance(result, str)]
    assert not failures, failures[0]
    answers = [answer for result in collected for answer in result]
    for process in processes:
        process.join()
        assert process.exitcode == 0
    return answers


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def _warm_up(api: Any, event_id: UUID, token: str) -> None:
    """Loads the function and its key ring in the parent, so every forked gate is a warm environment."""
    refused = api.post(f"/api/events/{event_id}/check-in", json={"code": "not-a-code"}, token=token)
    assert refused.status == 422, refused.body


def _gate_run(api: Any) -> dict[str, float]:
    scans = GATES * SCANS_PER_GATE
    figures: dict[str, float] = {}
    for mode in ("handler", "sql", "contested"):
        event_id, token, tickets = _sold_out_event(scans)
        _warm_up(api, event_id, token)
        args: list[tuple[Any, ...]]
        if mode == "sql":
            from ticketing.db import transaction

            with transaction() as tx:
                gate_user = tx.value("SELECT organizer_id FROM events WHERE id = :id", id=event_id)
            args = [
                (event_id, gate_user, [t for t, _ in tickets[g * SCANS_PER_GATE : (g + 1) * SCANS_PER_GATE]])
                for g in range(GATES)
            ]
        elif mode == "handler":
            args = [
                (api, event_id, token, [c for _, c in tickets[g * SCANS_PER_GATE : (g + 1) * SCANS_PER_GATE]])
                for g in range(GATES)
            ]
        else:
            args = [(api, event_id, token, [c for _, c in tickets[:SCANS_PER_GATE]]) for _ in range(GATES)]
        started = time.perf_counter()
        answers = _in_processes(_scan_as_bare_sql if mode == "sql" else _scan_through_handler, args)
        elapsed = time.perf_counter() - started
        admitted = sum(1 for _, status in answers if status == 200)
        assert admitted == (SCANS_PER_GATE if mode == "contested" else scans), (mode, admitted)
        latencies = [latency for latency, _ in answers]
        figures[f"{mode} p50 (ms)"] = statistics.median(latencies) * 1000
        figures[f"{mode} p99 (ms)"] = _percentile(latencies, 0.99) * 1000
        figures[f"{mode} scans/s"] = len(answers) / elapsed
    figures["handler/sql p50 ratio"] = figures["handler p50 (ms)"] / figures["sql p50 (ms)"]
    return figures


def _batch_run(api: Any) -> dict[str, float]:
    event_id, token, tickets = _sold_out_event(BATCH_SIZE)
    scanned_at = datetime.now(UTC).isoformat()
    scans = [{"code": code, "scanId": f"offline-{i}", "scannedAt": scanned_at} for i, (_, code) in enumerate(tickets)]
    started = time.perf_counter()
    response = api.post(f"/api/events/{event_id}/check-in/batch", json={"scans": scans}, token=token)
    seconds = time.perf_counter() - started
    assert response.status == 200, response.body
    assert {result["status"] for result in response.json()["results"]} == {200}
    return {"batch of 500 offline scans (ms)": seconds * 1000, "batch scans/s": BATCH_SIZE / seconds}


def _format(name: str, values: list[float]) -> str:
    median = statistics.median(values)
    return f"| {name} | {median:,.2f} | {min(values):,.2f} to {max(values):,.2f} |"


def main() -> None:
    # One key for the parent and every forked gate (each would otherwise generate its own).
    os.environ.setdefault("TICKET_SIGNING_KEY", secrets.token_urlsafe(48))
    load_before = os.getloadavg()[0]
    with bench_setup("tickets_bench") as setup:
        api, postgres_version = setup.api, setup.postgres_version
        runs = []
        for run in range(1, RUNS + 1):
            runs.append({**_gate_run(api), **_batch_run(api)})
            print(f"run {run}/{RUNS}: " + ", ".join(f"{k}={v:,.2f}" for k, v in runs[-1].items()), flush=True)
    summary = {name: statistics.median(run[name] for run in runs) for name in runs[0]}
    header = [
        "# Tickets benchmark",
        "",
        f"`make bench` (bench/tickets_bench.py). (a) {GATES} forked gate processes x {SCANS_PER_GATE} check-ins of",
        "distinct tickets, started together, through the real Lambda handler in-process (template routing, API",
        "Gateway proxy event, JWT, validation, Ed25519 verification, the conditional UPDATE, the outbox row, JSON),",
        "vs the same conditional UPDATE on a bare connection, one transaction per scan. (b) contested: every gate",
        f"scans the same {SCANS_PER_GATE} tickets through the handler; each is admitted exactly once (asserted).",
        f"(c) one offline batch of {BATCH_SIZE} scans through the handler. Median of {RUNS} runs, with the range.",
        f"Embedded PostgreSQL on the same machine, no network; the {GATES} gates share its cores with the database",
        f"and with whatever else runs: load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after the runs.",
    ]
    write_results(RESULTS, header, postgres_version, [_format(name, [run[name] for run in runs]) for name in runs[0]])
    replace_doc_section(
        "Tickets",
        [
            "`make bench` → `bench/tickets_bench.py`, results and machine in `bench/results/tickets.md` (medians of "
            f"{RUNS} runs, embedded PostgreSQL {postgres_version}). {GATES} gate processes share 2 cores with the",
            f"database and, here, with other work (load average {load_before:.1f}): the latencies below are mostly CPU",
            "scheduling, as the bare-SQL floor measured in the same run shows; the ratio is the figure to compare.",
            "",
            "| measure | median |",
            "|---|---|",
            f"| check-ins/s through the handler, {GATES} concurrent gates, distinct tickets |"
            f" {summary['handler scans/s']:,.0f} |",
            f"| check-in latency through the handler, p50 / p99 |"
            f" {summary['handler p50 (ms)']:.1f} ms / {summary['handler p99 (ms)']:.1f} ms |",
            f"| the conditional UPDATE as bare SQL, p50 / p99 (floor) |"
            f" {summary['sql p50 (ms)']:.1f} ms / {summary['sql p99 (ms)']:.1f} ms |",
            f"| handler / bare SQL (p50) | {summary['handler/sql p50 ratio']:.1f}x |",
            f"| contested: {GATES} gates scanning the same tickets, p50 / p99 (each admitted once) |"
            f" {summary['contested p50 (ms)']:.1f} ms / {summary['contested p99 (ms)']:.1f} ms |",
            f"| one offline batch of {BATCH_SIZE} scans | {summary['batch of 500 offline scans (ms)']:,.0f} ms"
            f" ({summary['batch scans/s']:,.0f} scans/s) |",
        ],
    )


if __name__ == "__main__":
    main()
