"""The figures of `python -m bench chaos`, measured after the quiet minute, and where they are written."""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from bench.chaos_crowd import Answer
from bench.chaos_faults import (
    CLEAR_AFTER_SECONDS,
    CLEAR_BEFORE_RESTART_SECONDS,
    DB_DOWN_SECONDS,
    DB_RESTART,
    DB_RESTART_AT,
    KINDS,
    MEAN_GAP_SECONDS,
    PROVIDER_WINDOW_SECONDS,
    Fault,
)
from bench.harness import replace_doc_section

REPO_ROOT = Path(__file__).resolve().parents[1]
RESULTS = REPO_ROOT / "bench" / "results" / "chaos.md"
GOAL_FAULTS, GOAL_KINDS, GOAL_DB_RECOVERY_SECONDS = 200, 6, 5.0
ALLOWED_5XX = (502, 503, 504)


@dataclass(frozen=True)
class Outcome:
    seed: int
    storm_seconds: float
    faults: list[Fault]
    answers: list[Answer]
    event_cancelled: bool
    bookings: dict[str, int]
    payments: dict[str, int]
    invariant_lines: list[str]
    invariants_hold: bool

    @classmethod
    def measure(
        cls, *, seed: int, storm: tuple[float, float], faults: list[Fault], answers: list[Answer], event_cancelled: bool
    ) -> Outcome:
        from ticketing.db import transaction
        from ticketing.ops.invariants import check

        with transaction() as tx:
            bookings = {r["status"]: r["n"] for r in tx.rows("SELECT status, count(*) AS n FROM bookings GROUP BY 1")}
            payments = {r["status"]: r["n"] for r in tx.rows("SELECT status, count(*) AS n FROM payments GROUP BY 1")}
        report = check()
        return cls(
            seed,
            storm[1] - storm[0],
            faults,
            answers,
            event_cancelled,
            bookings,
            payments,
            report.lines(),
            report.holds,
        )

    @property
    def injected(self) -> list[Fault]:
        return [fault for fault in self.faults if fault.injected]

    def recovery_seconds(self, fault: Fault) -> float | None:
        """From the fault's end to the end of the first successful answer to a request sent after it."""
        if fault.ended is None:
            return None
        after = [a.ended for a in self.answers if a.started >= fault.ended and 200 <= a.status < 300]
        return min(after) - fault.ended if after else None

    def by_status(self) -> Counter[int]:
        return Counter(answer.status for answer in self.answers)

    def hung(self) -> int:
        return sum(answer.hung for answer in self.answers)

    def bad_5xx(self) -> int:
        """5xx answers that are not 502/503/504 in the error envelope."""
        return sum(a.status >= 500 and (a.status not in ALLOWED_5XX or not a.in_envelope) for a in self.answers)

    def after_restart(self, seconds: int = 10) -> list[str]:
        """Per second after the database came back, the answers that ended then, by status."""
        lines = []
        for fault in self.injected:
            if fault.kind != DB_RESTART or fault.ended is None:
                continue
            back = fault.ended
            for second in range(-1, seconds):
                ended = [a for a in self.answers if back + second <= a.ended < back + second + 1]
                tally = Counter(a.status for a in ended)
                lines.append(f"| {second:+d} s | {', '.join(f'{s}: {n}' for s, n in sorted(tally.items())) or '-'} |")
        return lines

    def db_recoveries(self) -> list[float | None]:
        return [self.recovery_seconds(fault) for fault in self.injected if fault.kind == DB_RESTART]


def _seconds(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} s / {max(values):.2f} s" if values else "-"


def summary_lines(outcome: Outcome) -> list[str]:
    injected = outcome.injected
    kinds = Counter(fault.kind for fault in injected)
    db = outcome.db_recoveries()
    db_text = ", ".join("none" if value is None else f"{value:.2f} s" for value in db) or "-"
    statuses = ", ".join(f"{status or 'no answer'}: {n}" for status, n in sorted(outcome.by_status().items()))
    codes = Counter(
        f"{a.status} {a.code}" + (f" ({a.message})" if a.code == "SERVICE_UNAVAILABLE" else "")
        for a in outcome.answers
        if a.code
    )
    errors = ", ".join(f"{code}: {n}" for code, n in codes.most_common())
    lines = [
        f"Seed {outcome.seed}; storm {outcome.storm_seconds:.0f} s, then a quiet minute; "
        f"{len(outcome.answers)} requests; event cancelled during the storm: {outcome.event_cancelled}.",
        "",
        "| goal | measured |",
        "|---|---|",
        f"| ≥ {GOAL_FAULTS} injected faults | {len(injected)} (of {len(outcome.faults)} scheduled) |",
        f"| ≥ {GOAL_KINDS} kinds | {len(kinds)} |",
        f"| 0 invariant violations | {'0' if outcome.invariants_hold else outcome.invariant_lines[0]} |",
        f"| 0 hung requests (> 30 s or unanswered) | {outcome.hung()} |",
        f"| every 5xx a 502/503/504 in the error envelope | {outcome.bad_5xx()} that are not |",
        f"| DB restart: first success within {GOAL_DB_RECOVERY_SECONDS:.0f} s of it coming back | {db_text} |",
        "",
        "| fault kind | injected | recovery after it (median / max) |",
        "|---|---|---|",
    ]
    for kind in KINDS:
        recoveries = [r for f in injected if f.kind == kind if (r := outcome.recovery_seconds(f)) is not None]
        lines.append(f"| {kind} | {kinds.get(kind, 0)} | {_seconds(recoveries)} |")
    lines += [
        "",
        f"Requests by status: {statuses}.",
        "",
        f"Errors by code: {errors}.",
        "",
        f"Bookings at the end: {dict(sorted(outcome.bookings.items()))}; "
        f"payments: {dict(sorted(outcome.payments.items()))}.",
        "",
        "Answers around the database's return (second 0 starts when `pg_ctl start` returned):",
        "",
        "| second | answers by status |",
        "|---|---|",
        *outcome.after_restart(),
        "",
        "Invariant check after the quiet minute:",
        "",
        "```",
        *outcome.invariant_lines,
        "```",
    ]
    return lines


def write_outcome(outcome: Outcome, postgres_version: str) -> None:
    from bench.machine import machine_lines

    schedule = [
        f"- {fault.line()}{'' if fault.injected else ' (not injected: ' + (fault.note or 'nothing to hit') + ')'}"
        for fault in outcome.faults
    ]
    body = [*machine_lines(postgres_version), "", *summary_lines(outcome)]
    RESULTS.write_text("\n".join(["# Chaos: an on-sale under injected faults", "", *body, "", "## Schedule", "",
                                  *schedule, ""]))  # fmt: skip
    replace_doc_section("Chaos", [*_doc_intro(outcome), *body, "", "The whole schedule: bench/results/chaos.md."])
    print(RESULTS.read_text())


def _doc_intro(outcome: Outcome) -> list[str]:
    restarts = [fault.line() for fault in outcome.faults if fault.kind == DB_RESTART]
    gaps = ", ".join(f"{kind} {gap:g} s" for kind, gap in MEAN_GAP_SECONDS.items())
    return [
        "`python -m bench chaos` (bench/chaos_bench.py): a crowd of 300 buyers (16 at a time) holds, picks best",
        "available, books, pays, and cancels through the local runner while the organizer cancels one of the two",
        "events, and a schedule drawn from one seed injects faults through the runner's fault hooks",
        "(docs/local-runner.md): kill -9 of a busy worker, a PostgreSQL restart (`-m immediate`, down 5-30 s),",
        "payment provider windows of latency, timeouts and 5xx (`PAYMENT_TEST_FAULTS_FILE`), duplicate and delayed",
        "deliveries of scheduled ticks and domain events (EventBridge and SES in moto's server), the outbox publisher",
        "and the refunds worker killed mid-batch. After the storm and a quiet minute `make check-invariants`'s",
        "check runs. Recovery: from a fault's end to the first successful answer to a request sent after it.",
        "",
        f"The schedule (bench/chaos_faults.py, all drawn from seed {outcome.seed}): one database restart at"
        f" {DB_RESTART_AT:.0%} of the storm, down a uniform {DB_DOWN_SECONDS[0]:g}-{DB_DOWN_SECONDS[1]:g} s"
        f" ({'; '.join(restarts)}), with no kill or provider fault from {CLEAR_BEFORE_RESTART_SECONDS:g} s before"
        f" it to {CLEAR_AFTER_SECONDS:g} s after it is back; back-to-back provider windows of"
        f" {PROVIDER_WINDOW_SECONDS[0]:g}-{PROVIDER_WINDOW_SECONDS[1]:g} s (latency 1.5-4 s on every call, or"
        f" timeouts / 5xx on 60 % of calls); the other kinds at exponential gaps of mean {gaps}.",
        "",
    ]
