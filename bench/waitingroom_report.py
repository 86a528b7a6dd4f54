"""The waiting room bench's report: bench/results/waitingroom.md and its section of docs/benchmarks.md."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Any

from bench.bookings_bench import _percentile
from bench.harness import REPO_ROOT, replace_doc_section
from bench.machine import machine_lines
from bench.waitingroom_crowd import BUYING_CONNECTIONS, CONNECTIONS, Tally

RESULTS = REPO_ROOT / "bench" / "results" / "waitingroom.md"


@dataclass(frozen=True)
class Setting:
    """What the run was asked to do, for the report's header."""

    buyers: int
    arrival_seconds: float
    tick_seconds: float
    admit_per_minute: int
    target_times_floor: float
    join_path_niceness: int


@dataclass(frozen=True)
class RoomRun:
    tally: Tally
    seconds: float
    check: dict[str, Any]
    flag_after_last_sale: float | None  # seconds from the last seat sold to the controller's SOLD_OUT
    told_after_last_sale: list[float]  # seconds from the last seat sold to each waiting buyer learning it
    tau: float | None
    tick_seconds: list[float]  # how long each controller tick took


@dataclass(frozen=True)
class BareRun:
    tally: Tally
    seconds: float
    check: dict[str, Any]


def ms(values: list[float], fraction: float) -> str:
    if not values:
        return "-"
    return f"{(statistics.median(values) if fraction == 0.5 else _percentile(values, fraction)) * 1000:,.0f}"


def _oversold(check: dict[str, Any]) -> int:
    return int(check["sold_twice"]) + abs(int(check["booked"]) - int(check["confirmed_items"]))


def _row(name: str, goal: str, with_room: str, without: str) -> str:
    return f"| {name} | {goal} | {with_room} | {without} |"


def _listed(counts: dict[str, int]) -> str:
    return ", ".join(f"{key}: {n:,}" for key, n in sorted(counts.items())) or "0"


def _sold_out(room: RoomRun, tick_seconds: float) -> str:
    told, flag = room.told_after_last_sale, room.flag_after_last_sale
    if not told or flag is None:
        return f"{len(room.tally.sold_out_told):,} told; the room never said SOLD_OUT"
    within = sum(1 for seconds in told if seconds <= tick_seconds)
    return (
        f"{len(told):,} told, {within:,} within {tick_seconds:.0f} s of the last sale; the room said SOLD_OUT"
        f" {flag:.1f} s after it; buyers learnt it {statistics.median(told):.1f} s (median) / {max(told):.1f} s"
        " (last) after it"
    )


def table(setting: Setting, floor: list[float], room: RoomRun, bare: BareRun, costs: tuple[float, ...]) -> list[str]:
    floor_p99 = _percentile(floor, 0.99) if floor else 0.0
    tau = f"{room.tau:.4f}" if room.tau is not None else "-"
    return [
        f"| {setting.buyers:,} buyers arriving over {setting.arrival_seconds:.0f} s, 2,000 seats | goal |"
        " with the room | without (straight at hold-best) |",
        "|---|---|---|---|",
        _row("wall time (s)", "-", f"{room.seconds:.1f}", f"{bare.seconds:.1f}"),
        _row("requests answered", "-", f"{room.tally.requests:,}", f"{bare.tally.requests:,}"),
        _row("answers by call and status", "-", _listed(room.tally.statuses), _listed(bare.tally.statuses)),
        _row("connection errors", "0", str(room.tally.connection_errors), str(bare.tally.connection_errors)),
        _row("5xx answers", "0", str(room.tally.server_errors), str(bare.tally.server_errors)),
        _row("buyers left unanswered", "0", str(room.tally.unanswered), "-"),
        _row("joined before the start (the pre-queue) / after", "-", _joins(room.tally), "-"),
        _row("buyers who bought", "-", f"{room.tally.bought:,}", f"{bare.tally.bought:,}"),
        _row("admitted buyers who found no seat left", "-", f"{room.tally.found_nothing:,}", "-"),
        _row(
            "buyers who gave up (the answer that stopped them)",
            "-",
            _listed(room.tally.gave_up),
            _listed(bare.tally.gave_up),
        ),
        _row("seats sold", "2,000", str(room.check["booked"]), str(bare.check["booked"])),
        _row("oversold", "0", str(_oversold(room.check)), str(_oversold(bare.check))),
        _row(
            "hold-best p50 / p99 (ms)",
            f"p99 <= 3 x floor ({3 * floor_p99 * 1000:,.0f})",
            f"{ms(room.tally.holds, 0.5)} / {ms(room.tally.holds, 0.99)}",
            f"{ms(bare.tally.holds, 0.5)} / {ms(bare.tally.holds, 0.99)}",
        ),
        _row("uncontended hold-best p99 (ms), the floor", "-", ms(floor, 0.99), "-"),
        _row(
            f"waiting buyers told SOLD_OUT (tick {setting.tick_seconds:.0f} s)",
            "all, within one tick of the last sale",
            _sold_out(room, setting.tick_seconds),
            "-",
        ),
        _row(
            "joins answered after the room said SOLD_OUT (told at once)", "-", f"{room.tally.sold_out_at_join:,}", "-"
        ),
        _row("Kendall tau, line joiners (first 2,000): join answered vs admitted", ">= 0.99", tau, "-"),
        _row(
            "public state fetch p50 / max (ms); fetches (the CDN's)",
            "-",
            f"{ms(room.tally.public_fetch_seconds, 0.5)} / {ms(room.tally.public_fetch_seconds, 1.0)};"
            f" {room.tally.public_fetches:,}",
            "-",
        ),
        _row(
            "controller tick p50 / max (ms)",
            f"far below the tick ({setting.tick_seconds * 1000:,.0f})",
            f"{ms(room.tick_seconds, 0.5)} / {ms(room.tick_seconds, 1.0)}",
            "-",
        ),
        _row(
            "CPU per join / poll / public state, through the handler (ms)",
            "small",
            "{:.2f} / {:.2f} / {:.2f}".format(*costs),
            "-",
        ),
    ]


def _joins(tally: Tally) -> str:
    return f"{tally.pre_queue_joins:,} / {len(tally.joined):,}"


def write(
    setting: Setting,
    floor: list[float],
    room: RoomRun,
    bare: BareRun,
    costs: tuple[float, ...],
    postgres_version: str,
) -> None:
    rows = table(setting, floor, room, bare, costs)
    niceness = (
        f"The waiting room function's environments (the crowd's joins and polls) run at nice"
        f" {setting.join_path_niceness}: in AWS they have CPU of their own, not the buying path's cores."
        if setting.join_path_niceness
        else "The waiting room function and the buying path share the two cores evenly (in AWS each has its own)."
    )
    header = [
        "# Waiting room benchmark",
        "",
        "`python -m bench waitingroom` (bench/waitingroom_bench.py; `WAITINGROOM_BUYERS` sets the crowd).",
        f"{setting.buyers:,} virtual buyers (asyncio, in one process) arrive evenly over"
        f" {setting.arrival_seconds:.0f} s at a 2,000-seat event, half before the sale starts, through the local"
        " runner in a process of its own.",
        f"The crowd's joins and polls share {CONNECTIONS} keep-alive connections, the admitted buyers' purchases"
        f" {BUYING_CONNECTIONS} others, and a request's time is taken on its connection (not the wait for one).",
        f"The controller ticks every {setting.tick_seconds:.0f} s with a ceiling of {setting.admit_per_minute:,} a"
        f" minute and a latency target of {setting.target_times_floor:g} x the uncontended hold p99 (steered on the"
        " p99 of the last 15 s).",
        "Waiting buyers read the public state through one shared copy refreshed once per its max-age (what a CDN"
        " does; there is none locally), and ask /queue/me once that state says they are in (after a random part"
        " of the max-age); each admitted buyer holds the best 2 adjacent seats (fewer when no pair is left),"
        " books and pays, and lets go of its seats if a step fails.",
        "The same crowd then goes straight at hold-best on a fresh event.",
        "Every environment of the bookings and waiting room functions is started before anything is timed (what"
        " warming an on-sale does in AWS, where SnapStart also makes a cold start a restore rather than an import).",
        niceness,
    ]
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text("\n".join([*header, "", *machine_lines(postgres_version), "", *rows, ""]))
    print(RESULTS.read_text())
    replace_doc_section(
        "Waiting room",
        [
            "`python -m bench waitingroom` → `bench/waitingroom_bench.py`, results in `bench/results/waitingroom.md`"
            " (one run; same machine as above). What the room does: docs/waiting-room.md.",
            "",
            *rows,
        ],
    )
