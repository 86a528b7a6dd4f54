"""Waiting room: a crowd at a 2,000-seat on-sale, with the room and without it (`python -m bench waitingroom`).

One run, two halves on the same machine, each on a fresh 2,000-seat event (20 rows x 100), over real HTTP
through the local runner (template.yaml's functions in their worker processes, the runner in a process of
its own) with moto's DynamoDB server; the crowd is bench/waitingroom_crowd.py:

- with the room: WAITINGROOM_BUYERS virtual buyers (default 20,000) arrive spread evenly over ARRIVAL_SECONDS.
  Half arrive before the sale starts (the pre-queue), half after. Each joins, then watches the public state
  (one shared copy refreshed once per its `max-age`, which is what a CDN in front of the API does) until it
  says the buyer is in, or SOLD_OUT; then it asks /queue/me for its token, holds the best 2 adjacent seats
  with it, creates the booking and pays. The controller ticks in a process of its own every TICK_SECONDS.
- without the room: the same crowd, arriving the same way, goes straight at hold-best; a SEATS_LOCKED is
  retried, NO_ADJACENT_SEATS with nothing left ends the buyer.

Before anything is timed, every environment of the functions the crowd calls is started (_warm_up). The floor:
hold-best's p99 on an uncontended event (FLOOR_HOLDS buyers one after the other), same run, same runner.
Cost per join, per poll and per public state read: CPU time per request through the handler,
in-process (no HTTP). Fairness: Kendall tau between the order the line's joins were answered and the order
the public state admitted them. In AWS the waiting room function has CPU of its own; here its environments
share two cores with the buying path's, so they run at JOIN_PATH_NICENESS (nice; 0 to share the cores
evenly). moto's server does not: the buying path calls it too (rate limits, health samples), and a lower
priority there would make holds wait behind the crowd's joins for CPU, which DynamoDB does not do.
Results go to bench/results/waitingroom.md and docs/benchmarks.md.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from uuid import UUID

from bench.bookings_bench import _buyers, _percentile, _seed_event
from bench.harness import REPO_ROOT, bench_setup
from bench.waitingroom_crowd import Pool, Pools, PublicState, Tally, buy, crowd, room_buyer
from bench.waitingroom_report import BareRun, RoomRun, Setting, ms, write

BUYERS = int(os.environ.get("WAITINGROOM_BUYERS", "20000"))
JOIN_PATH_NICENESS = int(os.environ.get("WAITINGROOM_JOIN_NICENESS", "10"))
ARRIVAL_SECONDS = 10.0
ROWS, SEATS_PER_ROW = 20, 100  # 2,000 seats
# The event's ceiling, from the capacity model's reading of this machine (docs/capacity.md, "Reading the
# knee"): p99 stays near its floor up to about 70 % of the cores, a purchase costs about 65 ms of CPU, and the
# crowd's joins take about one of the two cores while they last: 0.7 x 1 core / 65 ms = about 10 buyers a
# second. The controller adapts below it.
ADMIT_PER_MINUTE = 600
# The latency target the controller backs off at: 2 x the uncontended p99 measured in the same run, so that
# the whole run's p99 stays within the goal of 3 x.
TARGET_TIMES_FLOOR = 2
TICK_SECONDS = 2.0
TAU_SAMPLE = 2000
FLOOR_HOLDS = 300
FLOOR_WARM_UP = 10
# The functions the crowd calls, whose environments are all started before it comes (_warm_up).
CROWD_FUNCTIONS = ("BookingsFunction", "WaitingRoomFunction")
WARM_UP_ROUNDS = 300
COST_SAMPLES = 300


class Ticker:
    """The controller in its own process (as the scheduled function runs in its own environment), ticking every
    TICK_SECONDS, faster in the end game (controller.seconds_to_next_tick, as run_ticks does). The child
    reports each tick on its stdout: when it started (the monotonic clock, shared by the processes), how long
    it took, whether a room was sold out. Stopped by closing its stdin."""

    def __init__(self) -> None:
        self.sold_out_at: float | None = None
        self.durations: list[float] = []  # seconds each tick took
        self._child: subprocess.Popen[str] | None = None
        self._reader = threading.Thread(target=self._read, name="controller-reports", daemon=True)

    def __enter__(self) -> Ticker:
        self._child = subprocess.Popen(
            [sys.executable, "-c", "from bench.waitingroom_bench import tick_until_stdin_closes as t; t()"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=REPO_ROOT,
        )
        self._reader.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._child is not None and self._child.stdin is not None:
            self._child.stdin.close()
            self._child.wait(timeout=60)
        self._reader.join()

    def _read(self) -> None:
        assert self._child is not None
        assert self._child.stdout is not None
        for line in self._child.stdout:
            if not line.startswith("tick "):
                continue  # the controller's own output (metrics flushed to stdout)
            _, started, took, sold_out = line.split()
            self.durations.append(float(took))
            if sold_out == "1" and self.sold_out_at is None:
                self.sold_out_at = float(started) + float(took)


def tick_until_stdin_closes() -> None:
    """The Ticker's child: ticks until its parent closes its stdin."""
    from ticketing.waiting_room.controller import run_tick, seconds_to_next_tick

    stop = threading.Event()

    def watch_stdin() -> None:
        sys.stdin.read()
        stop.set()

    threading.Thread(target=watch_stdin, daemon=True).start()
    wait = TICK_SECONDS
    while not stop.wait(wait):
        started = time.monotonic()
        decisions = run_tick()
        took = time.monotonic() - started
        print(f"tick {started:.6f} {took:.6f} {int(any(d.sold_out for d in decisions))}", flush=True)
        wait = max(0.0, started + seconds_to_next_tick(decisions, TICK_SECONDS) - time.monotonic())


def _database_check(event_id: UUID) -> dict[str, Any]:
    from ticketing.db import transaction

    with transaction() as tx:
        row = tx.row(
            "SELECT (SELECT count(*) FROM event_seats WHERE event_id = :e AND status = 'BOOKED') AS booked,"
            " (SELECT count(*) FROM booking_items bi JOIN bookings b ON b.id = bi.booking_id"
            "   WHERE b.event_id = :e AND b.status = 'CONFIRMED') AS confirmed_items,"
            " (SELECT count(*) FROM (SELECT bi.event_seat_id FROM booking_items bi JOIN bookings b"
            "   ON b.id = bi.booking_id WHERE b.event_id = :e AND b.status = 'CONFIRMED'"
            "   GROUP BY bi.event_seat_id HAVING count(*) > 1) twice) AS sold_twice,"
            " (SELECT extract(epoch FROM now() - max(confirmed_at)) FROM bookings WHERE event_id = :e) AS since_last",
            e=event_id,
        )
    assert row is not None
    return dict(row)


def _with_room(base_url: str, buyers: list[tuple[UUID, str]]) -> RoomRun:
    from ticketing.db import transaction

    event_id, _ = _seed_event(rows=ROWS, seats_per_row=SEATS_PER_ROW)
    with transaction() as tx:
        tx.execute(
            "UPDATE events SET waiting_room_enabled = true, waiting_room_admit_per_minute = :rate,"
            " waiting_room_opens_at = now() - interval '1 minute',"
            " sales_start_at = now() + make_interval(secs => :start) WHERE id = :e",
            e=event_id,
            rate=ADMIT_PER_MINUTE,
            start=ARRIVAL_SECONDS / 2,
        )
    tally = Tally()

    async def one(pools: Pools, watch: PublicState | None, user: str, token: str) -> None:
        assert watch is not None
        await room_buyer(pools, watch, event_id, user, token, tally)

    with Ticker() as ticker:
        seconds = asyncio.run(crowd(base_url, buyers, one, tally, ARRIVAL_SECONDS, watch_event=event_id))
    check = _database_check(event_id)
    last_sale = time.monotonic() - float(check["since_last"] or 0)
    flag = ticker.sold_out_at
    return RoomRun(
        tally=tally,
        seconds=seconds,
        check=check,
        flag_after_last_sale=flag - last_sale if flag is not None and check["since_last"] is not None else None,
        told_after_last_sale=[told - last_sale for told in tally.sold_out_told] if check["since_last"] else [],
        tau=_admission_tau(tally),
        tick_seconds=ticker.durations,
    )


def _admission_tau(tally: Tally) -> float | None:
    """Kendall tau between the order the line's joins were answered and the order the room's public state
    admitted them (the first TAU_SAMPLE of them: the statistic is quadratic)."""
    joined = [user for _, user in sorted(tally.joined)]
    rank = {user: index for index, user in enumerate(tally.admitted_order)}
    ordered = [user for user in joined if user in rank][:TAU_SAMPLE]
    if len(ordered) < 2:
        return None
    concordant = discordant = 0
    for i in range(len(ordered)):
        for j in range(i + 1, len(ordered)):
            if rank[ordered[i]] < rank[ordered[j]]:
                concordant += 1
            else:
                discordant += 1
    return (concordant - discordant) / (concordant + discordant)


def _without_room(base_url: str, buyers: list[tuple[UUID, str]]) -> BareRun:
    event_id, _ = _seed_event(rows=ROWS, seats_per_row=SEATS_PER_ROW)
    tally = Tally()

    async def one(pools: Pools, watch: PublicState | None, user: str, token: str) -> None:
        await buy(pools.crowd, event_id, token, None, tally)

    seconds = asyncio.run(crowd(base_url, buyers, one, tally, ARRIVAL_SECONDS))
    return BareRun(tally, seconds, _database_check(event_id))


def _warm_up(base_url: str, runner_log: Path, buyers: list[tuple[UUID, str]]) -> None:
    """Starts every execution environment of the functions the crowd calls before the crowd is timed, as an
    on-sale is warmed in AWS (and SnapStart makes a cold start there a restore, not an import). The runner
    starts one environment of a function at a time, when a request finds all of them busy: rounds of
    concurrent reads (the caller's bookings, the public state) until its log shows each function's
    LOCAL_CONCURRENCY cold starts."""
    from devtools.runner_options import concurrency_from_environment

    environments = concurrency_from_environment()
    event_id, _ = _seed_event(rows=1, seats_per_row=1)

    def started(function: str) -> int:
        return sum(f"Function: {function}\t" in line and "Init Duration" in line for line in runner_log.open())

    async def rounds() -> None:
        pool = Pool(base_url, 4 * environments, Tally())
        for _ in range(WARM_UP_ROUNDS):
            if all(started(function) >= environments for function in CROWD_FUNCTIONS):
                return
            await asyncio.gather(
                *(pool.request("warm-up", "GET", "/api/bookings", token) for _, token in buyers[: 2 * environments]),
                *(pool.request("warm-up", "GET", f"/api/events/{event_id}/queue") for _ in range(2 * environments)),
            )
            await asyncio.sleep(0.1)
        raise RuntimeError(f"the runner did not start {environments} environments of {CROWD_FUNCTIONS}")

    asyncio.run(rounds())


def _floor(base_url: str, buyers: list[tuple[UUID, str]]) -> list[float]:
    event_id, _ = _seed_event(rows=ROWS, seats_per_row=SEATS_PER_ROW)
    holds: list[float] = []

    async def sequential() -> None:
        pool = Pool(base_url, 1, Tally())
        for index, (_, token) in enumerate(buyers):
            hold = await pool.request(
                "hold-best", "POST", "/api/bookings/hold-best", token, {"eventId": str(event_id), "quantity": 2}
            )
            assert hold.status == 200, hold.status
            if index >= FLOOR_WARM_UP:  # the first ones start the bookings function's workers
                holds.append(hold.seconds)

    asyncio.run(sequential())
    return holds


def _cpu_per_request(api: Any, buyers: list[tuple[UUID, str]]) -> tuple[float, float, float]:
    """CPU ms per join, per poll (/queue/me) and per public state read through the handler, in-process (the
    settings cache warm; the store's work in moto's server is not counted, DynamoDB's is not ours either)."""
    from ticketing.db import transaction

    event_id, _ = _seed_event(rows=1, seats_per_row=10)
    with transaction() as tx:
        tx.execute(
            "UPDATE events SET waiting_room_enabled = true, waiting_room_opens_at = now() - interval '1 hour'"
            " WHERE id = :e",
            e=event_id,
        )
    path = f"/api/events/{event_id}/queue"
    assert api.post(path, token=buyers[0][1]).status == 201
    started = time.process_time()
    for _, token in buyers[1:]:
        assert api.post(path, token=token).status == 201
    join_ms = (time.process_time() - started) * 1000 / (len(buyers) - 1)
    started = time.process_time()
    for _, token in buyers[1:]:
        assert api.get(path + "/me", token=token).status == 200
    poll_ms = (time.process_time() - started) * 1000 / (len(buyers) - 1)
    started = time.process_time()
    for _ in buyers[1:]:
        assert api.get(path).status == 200
    public_ms = (time.process_time() - started) * 1000 / (len(buyers) - 1)
    with transaction() as tx:  # measured: its room stops, so the controller ticks only the crowd's
        tx.execute("UPDATE events SET waiting_room_enabled = false WHERE id = :e", e=event_id)
    return join_ms, poll_ms, public_ms


def main() -> None:
    os.environ.setdefault("WAITING_ROOM_TICK_SECONDS", str(TICK_SECONDS))
    # One key ring for every worker: the waiting room's workers sign admissions, the bookings' verify them.
    os.environ.setdefault("ADMISSION_SIGNING_KEY", secrets.token_urlsafe(48))
    # Every simulated customer signs in from this one machine: no per-address limit here.
    os.environ["RATE_LIMIT_ADDRESS_PER_MINUTE"] = "0"
    if JOIN_PATH_NICENESS:
        os.environ["LOCAL_NICENESS"] = f"WaitingRoomFunction={JOIN_PATH_NICENESS}"
    from devtools.local_dynamodb import dynamodb_server, use_local_dynamodb
    from devtools.run_api import running_api_process
    from ticketing.config import get_settings

    with (
        bench_setup("waitingroom_bench") as setup,
        dynamodb_server() as dynamodb_url,
        tempfile.TemporaryDirectory(prefix="waitingroom-runner-") as logs,
    ):
        use_local_dynamodb(dynamodb_url)
        buyers = _buyers(BUYERS)
        costs = _cpu_per_request(setup.api, buyers[:COST_SAMPLES])
        print("cpu per join / poll / public state: {:.2f} / {:.2f} / {:.2f} ms".format(*costs), flush=True)
        # The controller's process reads the latency target from this environment.
        runner_log = Path(logs) / "runner.log"
        with running_api_process(REPO_ROOT / "template.yaml", runner_log) as base_url:
            _warm_up(base_url, runner_log, buyers)
            floor = _floor(base_url, buyers[:FLOOR_HOLDS])
            print(f"uncontended hold-best p99 {ms(floor, 0.99)} ms", flush=True)
            os.environ["WAITING_ROOM_LATENCY_TARGET_MS"] = f"{TARGET_TIMES_FLOOR * _percentile(floor, 0.99) * 1000:.0f}"
            get_settings.cache_clear()
            room = _with_room(base_url, buyers)
            print(f"with the room: {room.tally.bought} bought in {room.seconds:.1f} s", flush=True)
            bare = _without_room(base_url, buyers)
            print(f"without the room: {bare.tally.bought} bought in {bare.seconds:.1f} s", flush=True)
        setting = Setting(
            BUYERS, ARRIVAL_SECONDS, TICK_SECONDS, ADMIT_PER_MINUTE, TARGET_TIMES_FLOOR, JOIN_PATH_NICENESS
        )
        write(setting, floor, room, bare, costs, setup.postgres_version)


if __name__ == "__main__":
    main()
