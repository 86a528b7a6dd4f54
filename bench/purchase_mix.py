"""The purchase mix at one concurrency level, over real HTTP through the local runner, with its CPU counted.

Each client is a thread with its own HTTP connection that buys until the level's time is up: read the seat
status (sending the ETag it last saw, so an unchanged map is a 304), hold two seats (three times in four
hold-seats on a pair picked with popularity skewed to the front rows, once in four hold-best), create the
booking, confirm it with a test card. A 409 is retried (a lost pair picks another), at most MAX_ATTEMPTS
times. The steps are named in PURCHASE_STEPS and run in that order; a new step (a separate `pay`) is one
more entry there and one more method on Shopper.

CPU: every process of ours (this one, the runner's workers) and every PostgreSQL process is read before and
after the level; the machine's total busy time from /proc/stat gives what other work took meanwhile.
"""

from __future__ import annotations

import http.client
import itertools
import json
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

import psutil

from bench.bookings_bench import _percentile, _seed_event

ROWS, SEATS_PER_ROW = 100, 200  # 20,000 seats
# Popularity: row = ROWS * u**SKEW for a uniform u, so half of all picks fall in the front eighth of rows.
SKEW = 3.0
BEST_AVAILABLE_SHARE = 0.25
MAX_ATTEMPTS = 5
# The first part of a level is not measured: every client starts at once, and the first purchases are still
# on their way through the steps.
WARM_UP_SHARE = 0.25
HTTP_TIMEOUT_SECONDS = 60
PAYMENT_TOKEN = "tok_visa"
PURCHASE_STEPS = ("status", "hold", "create", "confirm")


class Retry(Exception):
    """A 409: this attempt lost a race."""


@dataclass
class LevelResult:
    """A level's figures. Throughput and CPU cover its measured window: from WARM_UP_SHARE of its time (every
    client busy) to its deadline (no client leaving yet); latencies cover every purchase."""

    clients: int
    seconds: float  # the measured window
    purchase_latencies: list[float] = field(default_factory=list)
    finished_at: list[float] = field(default_factory=list)  # when each purchase completed (perf_counter)
    window: tuple[float, float] = (0.0, 0.0)
    step_latencies: dict[str, list[float]] = field(default_factory=lambda: {s: [] for s in PURCHASE_STEPS})
    conflicts: int = 0
    not_modified: int = 0
    failures: list[str] = field(default_factory=list)
    our_cpu_seconds: float = 0.0
    database_cpu_seconds: float = 0.0
    other_cpu_seconds: float = 0.0
    # Time the machine's cores sat idle waiting for the disk (commits wait for their WAL flush).
    io_wait_seconds: float = 0.0

    @property
    def purchases(self) -> int:
        """Purchases completed inside the measured window."""
        return sum(1 for moment in self.finished_at if self.window[0] <= moment <= self.window[1])

    @property
    def purchases_per_second(self) -> float:
        return self.purchases / self.seconds if self.seconds else 0.0

    def latency_ms(self, fraction: float) -> float:
        if not self.purchase_latencies:
            return float("nan")
        if fraction == 0.5:
            return statistics.median(self.purchase_latencies) * 1000
        return _percentile(self.purchase_latencies, fraction) * 1000

    @property
    def cpu_ms_per_purchase(self) -> float:
        return self.our_cpu_seconds * 1000 / self.purchases if self.purchases else float("nan")

    @property
    def cores_left_by_other_work(self) -> float:
        return max(0.0, (os.cpu_count() or 1) - self.other_cpu_seconds / self.seconds)


@dataclass(frozen=True)
class Hall:
    """An on-sale event and its seats by row, front row first."""

    event_id: UUID
    rows: list[list[UUID]]

    def popular_pair(self, rng: random.Random) -> list[UUID]:
        row = self.rows[min(len(self.rows) - 1, int(len(self.rows) * rng.random() ** SKEW))]
        start = rng.randrange(len(row) - 1)
        return row[start : start + 2]


def seed_hall() -> Hall:
    from ticketing.db import transaction

    event_id, _ = _seed_event(rows=ROWS, seats_per_row=SEATS_PER_ROW)
    with transaction() as tx:
        seats = tx.rows(
            "SELECT es.id, vs.row_index FROM event_seats es JOIN venue_seats vs ON vs.id = es.venue_seat_id"
            " WHERE es.event_id = :event ORDER BY vs.row_index, vs.number",
            event=event_id,
        )
    rows: dict[int, list[UUID]] = {}
    for seat in seats:
        rows.setdefault(seat["row_index"], []).append(seat["id"])
    return Hall(event_id, [rows[index] for index in sorted(rows)])


class Shopper:
    """One client: an HTTP connection and the buyers it buys for, one purchase at a time."""

    def __init__(self, base_url: str, hall: Hall, rng: random.Random) -> None:
        address = urlsplit(base_url)
        self._connection = http.client.HTTPConnection(
            address.hostname or "127.0.0.1", address.port, timeout=HTTP_TIMEOUT_SECONDS
        )
        self._hall = hall
        self._rng = rng
        self._etag = ""

    def close(self) -> None:
        self._connection.close()

    def _call(self, method: str, path: str, token: str, body: Any = None) -> tuple[int, dict[str, Any] | None]:
        headers = {"Authorization": f"Bearer {token}", "Accept-Encoding": "gzip"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        if method == "GET" and self._etag:
            headers["If-None-Match"] = self._etag
        self._connection.request(method, path, body=None if body is None else json.dumps(body), headers=headers)
        response = self._connection.getresponse()
        payload = response.read()
        if response.status == 409:
            raise Retry
        if method == "GET":
            self._etag = response.getheader("ETag") or ""
            return response.status, None
        if response.status not in (200, 201):
            raise RuntimeError(f"{method} {path} answered {response.status}: {payload[:200]!r}")
        answer: dict[str, Any] = json.loads(payload)
        return response.status, answer

    def status(self, token: str, state: dict[str, Any]) -> None:
        code, _ = self._call("GET", f"/api/events/{self._hall.event_id}/seats/status", token)
        state["not_modified"] = code == 304

    def hold(self, token: str, state: dict[str, Any]) -> None:
        event = str(self._hall.event_id)
        if self._rng.random() < BEST_AVAILABLE_SHARE:
            self._call("POST", "/api/bookings/hold-best", token, {"eventId": event, "quantity": 2})
        else:
            pair = [str(seat) for seat in self._hall.popular_pair(self._rng)]
            self._call("POST", "/api/bookings/hold-seats", token, {"eventId": event, "seatIds": pair})

    def create(self, token: str, state: dict[str, Any]) -> None:
        _, state["booking"] = self._call("POST", "/api/bookings/create", token, {"eventId": str(self._hall.event_id)})

    def confirm(self, token: str, state: dict[str, Any]) -> None:
        booking = state["booking"]
        body = {"paymentToken": PAYMENT_TOKEN, "amount": booking["total"], "version": booking["version"]}
        self._call("POST", f"/api/bookings/{booking['id']}/confirm", token, body)


def _shop(shopper: Shopper, tokens: Callable[[], str], deadline: float, result: LevelResult) -> None:
    steps = {name: getattr(shopper, name) for name in PURCHASE_STEPS}
    try:
        while time.perf_counter() < deadline:
            token = tokens()
            state: dict[str, Any] = {}
            started = time.perf_counter()
            for name, step in steps.items():
                for _ in range(MAX_ATTEMPTS):
                    step_started = time.perf_counter()
                    try:
                        step(token, state)
                        break
                    except Retry:
                        result.conflicts += 1
                    finally:
                        result.step_latencies[name].append(time.perf_counter() - step_started)
                else:
                    break
            else:
                result.finished_at.append(time.perf_counter())
                result.purchase_latencies.append(result.finished_at[-1] - started)
                result.not_modified += bool(state.get("not_modified"))
    except (OSError, http.client.HTTPException, RuntimeError) as error:
        result.failures.append(f"{type(error).__name__}: {error}"[:300])
    finally:
        shopper.close()


def _cpu_seconds(processes: list[psutil.Process]) -> dict[int, float]:
    """CPU-seconds per process, with what its exited children used (PostgreSQL's backends end with their client)."""
    seen = {}
    for process in processes:
        try:
            cpu = process.cpu_times()
            seen[process.pid] = cpu.user + cpu.system + cpu.children_user + cpu.children_system
        except psutil.NoSuchProcess:
            continue
    return seen


def postgres_cpu_seconds(postmaster: psutil.Process) -> float:
    """CPU-seconds the whole PostgreSQL server has used so far."""
    return sum(_cpu_seconds([postmaster, *postmaster.children(recursive=True)]).values())


class CpuMeter:
    """CPU-seconds used by our processes, by PostgreSQL's, and by everything on the machine."""

    def __init__(self, postmaster_pid: int) -> None:
        self._postmaster = psutil.Process(postmaster_pid)

    def _ours(self) -> tuple[dict[int, float], dict[int, float]]:
        me = psutil.Process()
        return (
            _cpu_seconds([me, *me.children(recursive=True)]),
            _cpu_seconds([self._postmaster, *self._postmaster.children(recursive=True)]),
        )

    @staticmethod
    def _machine() -> tuple[float, float]:
        """(busy, waiting for I/O) CPU-seconds of the whole machine so far, from /proc/stat."""
        fields = [int(value) for value in open("/proc/stat").readline().split()[1:]]  # noqa: SIM115
        idle, io_wait = fields[3], fields[4]
        ticks = os.sysconf("SC_CLK_TCK")
        return (sum(fields[:8]) - idle - io_wait) / ticks, io_wait / ticks

    def start(self) -> tuple[dict[int, float], dict[int, float], tuple[float, float]]:
        return (*self._ours(), self._machine())

    def stop(
        self, started: tuple[dict[int, float], dict[int, float], tuple[float, float]], result: LevelResult
    ) -> None:
        ours, database, (busy, io_wait) = self.start()
        our_cpu = sum(value - started[0].get(pid, 0.0) for pid, value in ours.items())
        database_cpu = sum(value - started[1].get(pid, 0.0) for pid, value in database.items())
        result.our_cpu_seconds = our_cpu + database_cpu
        result.database_cpu_seconds = database_cpu
        result.other_cpu_seconds = max(0.0, busy - started[2][0] - result.our_cpu_seconds)
        result.io_wait_seconds = io_wait - started[2][1]


def postmaster_pid() -> int:
    from ticketing.db import transaction

    with transaction() as tx:
        backend = int(tx.value("SELECT pg_backend_pid()"))
    parent = psutil.Process(backend).parent()
    if parent is None:
        raise RuntimeError("the PostgreSQL backend has no parent process")
    return parent.pid


def run_level(base_url: str, clients: int, seconds: float, tokens: list[str], meter: CpuMeter) -> LevelResult:
    """`clients` shoppers on a fresh 20,000-seat event for `seconds`, all started together (`tokens`: at least
    one buyer per client)."""
    hall = seed_hall()
    result = LevelResult(clients=clients, seconds=seconds)
    # Each client buys for its own buyers, so no two clients ever act for one buyer at the same time.
    token_cycles = [itertools.cycle(tokens[index::clients]) for index in range(clients)]
    shoppers = [Shopper(base_url, hall, random.Random(index)) for index in range(clients)]
    begin = time.perf_counter()
    deadline = begin + seconds
    threads = [
        threading.Thread(
            target=_shop, args=(shopper, token_cycles[index].__next__, deadline, result), name=f"shopper-{index}"
        )
        for index, shopper in enumerate(shoppers)
    ]
    for thread in threads:
        thread.start()
    time.sleep(max(0.0, begin + seconds * WARM_UP_SHARE - time.perf_counter()))
    window_start, started = time.perf_counter(), meter.start()
    time.sleep(max(0.0, deadline - time.perf_counter()))
    meter.stop(started, result)
    result.window = (window_start, time.perf_counter())
    result.seconds = result.window[1] - result.window[0]
    for thread in threads:
        thread.join(timeout=HTTP_TIMEOUT_SECONDS * MAX_ATTEMPTS)
    return result
