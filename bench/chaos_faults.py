"""The faults of `python -m bench chaos`: a seeded schedule, and how each kind is injected into the local stack
through the runner's and the database helpers' fault hooks (docs/local-runner.md, "Fault hooks").
"""

from __future__ import annotations

import json
import os
import random
import signal
import threading
import time
import uuid
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devtools.embedded_db import start_server_again, stop_server_abruptly
from devtools.lambda_pool import LambdaRuntime
from devtools.sam_template import FunctionSpec, SamApp
from devtools.server import scheduled_event

WORKER_KILL = "worker kill -9 mid-request"
DB_RESTART = "PostgreSQL restart"
PROVIDER_LATENCY = "provider latency spike"
PROVIDER_TIMEOUT = "provider timeouts"
PROVIDER_5XX = "provider 5xx"
DUPLICATE = "duplicate delivery"
DELAYED = "delayed delivery"
OUTBOX_KILL = "outbox publisher killed mid-batch"
REFUNDS_KILL = "refunds worker killed mid-batch"
KINDS = (WORKER_KILL, DB_RESTART, PROVIDER_LATENCY, PROVIDER_TIMEOUT, PROVIDER_5XX, DUPLICATE, DELAYED, OUTBOX_KILL,
         REFUNDS_KILL)  # fmt: skip

# Mean seconds between two faults of a kind (an exponential gap, so they bunch as real faults do).
MEAN_GAP_SECONDS = {WORKER_KILL: 1.3, DUPLICATE: 2.2, DELAYED: 2.2, OUTBOX_KILL: 7.0, REFUNDS_KILL: 7.0}
PROVIDER_WINDOW_SECONDS = (4.0, 8.0)
PROVIDER_GAP_SECONDS = 5.0
DB_DOWN_SECONDS = (5.0, 30.0)
DB_RESTART_AT = 0.4  # of the storm
DELIVERY_DELAY_SECONDS = (2.0, 15.0)
API_FUNCTIONS_KILLED = (
    "BookingsFunction",
    "BookingsFunction",
    "BookingsFunction",
    "BookingsFunction",
    "EventsFunction",
)
# The database restart's recovery is measured alone: no kill or provider fault from a little before it until
# CLEAR_AFTER_SECONDS after it came back (a kill a moment before would have the restart measure a cold start).
KEPT_CLEAR = (WORKER_KILL, PROVIDER_LATENCY, PROVIDER_TIMEOUT, PROVIDER_5XX, OUTBOX_KILL, REFUNDS_KILL)
CLEAR_BEFORE_RESTART_SECONDS, CLEAR_AFTER_SECONDS = 10.0, 10.0
# A worker to kill must be busy: how long to look for one before the kill is given up (not counted).
BUSY_WAIT_SECONDS = 2.0


@dataclass
class Fault:
    at: float  # seconds after the storm starts
    kind: str
    target: str
    seconds: float = 0.0  # how long it lasts (outage, window, delay); 0 for an instant fault
    injected: bool = False
    ended: float | None = None  # monotonic, once it is over
    note: str = ""

    def line(self) -> str:
        lasting = f" for {self.seconds:.1f} s" if self.seconds else ""
        return f"t+{self.at:6.1f} s  {self.kind}: {self.target}{lasting}"


def schedule(seed: int, storm_seconds: float, app: SamApp) -> list[Fault]:
    """The whole run's faults, from the seed alone."""
    rng = random.Random(seed)
    scheduled = sorted(function.logical_id for function in app.functions if function.schedule_events)
    deliveries = [*(f"{name} tick" for name in scheduled), *DOMAIN_EVENT_TARGETS]
    faults = [Fault(storm_seconds * DB_RESTART_AT, DB_RESTART, "the database", rng.uniform(*DB_DOWN_SECONDS))]
    at = 3.0
    while at < storm_seconds - PROVIDER_WINDOW_SECONDS[1]:
        window = rng.uniform(*PROVIDER_WINDOW_SECONDS)
        kind = rng.choice((PROVIDER_LATENCY, PROVIDER_TIMEOUT, PROVIDER_5XX))
        faults.append(Fault(at, kind, "test payment provider", window))
        at += window + rng.uniform(0, PROVIDER_GAP_SECONDS)
    for kind, gap in MEAN_GAP_SECONDS.items():
        at = rng.expovariate(1 / gap)
        while at < storm_seconds:
            if kind == WORKER_KILL:
                faults.append(Fault(at, kind, rng.choice(API_FUNCTIONS_KILLED)))
            elif kind in (DUPLICATE, DELAYED):
                delay = rng.uniform(*DELIVERY_DELAY_SECONDS) if kind == DELAYED else 0.0
                faults.append(Fault(at, kind, rng.choice(deliveries), delay))
            else:
                faults.append(Fault(at, kind, "OutboxPublisherFunction" if kind == OUTBOX_KILL else "RefundsFunction"))
            at += rng.expovariate(1 / gap)
    restart = faults[0]
    clear_from, clear_until = (
        restart.at - CLEAR_BEFORE_RESTART_SECONDS,
        restart.at + restart.seconds + CLEAR_AFTER_SECONDS,
    )
    return sorted(
        (f for f in faults if f is restart or f.kind not in KEPT_CLEAR or not clear_from < f.at < clear_until),
        key=lambda fault: fault.at,
    )


# Functions fed by domain events, and the event EventBridge brings them.
DOMAIN_EVENT_TARGETS = ("NotificationFunction event", "OutboxPublisherFunction wake", "RefundsFunction wake")


@dataclass
class Injector:
    app: SamApp
    runtime: LambdaRuntime
    data_dir: Path
    faults_file: Path
    rng: random.Random
    # The last domain event recorded in the outbox, as EventBridge would deliver it (NotificationFunction).
    latest_domain_event: Callable[[], dict[str, Any] | None]
    database_up: threading.Event = field(default_factory=threading.Event)

    def spec(self, logical_id: str) -> FunctionSpec:
        (found,) = [function for function in self.app.functions if function.logical_id == logical_id]
        return found

    def inject(self, fault: Fault) -> None:
        """Injects one fault (in the caller's thread) and notes when it ended."""
        if fault.kind == WORKER_KILL:
            fault.injected = self._kill_busy(fault.target)
        elif fault.kind == DB_RESTART:
            self._restart_database(fault)
        elif fault.kind in (PROVIDER_LATENCY, PROVIDER_TIMEOUT, PROVIDER_5XX):
            self._provider_window(fault)
        elif fault.kind in (DUPLICATE, DELAYED):
            self._deliver(fault)
        else:
            self._kill_mid_batch(fault)
        fault.ended = time.monotonic()

    def _kill_busy(self, logical_id: str) -> bool:
        deadline = time.monotonic() + BUSY_WAIT_SECONDS
        while time.monotonic() < deadline:
            busy = self.runtime.busy_pids(logical_id)
            if busy:
                try:
                    os.kill(self.rng.choice(busy), signal.SIGKILL)
                except ProcessLookupError:
                    continue  # it answered and was reaped meanwhile: pick again
                return True
            time.sleep(0.01)
        return False

    def _restart_database(self, fault: Fault) -> None:
        self.database_up.clear()
        socket_dir = stop_server_abruptly(self.data_dir)
        fault.injected = True
        time.sleep(fault.seconds)
        start_server_again(self.data_dir, socket_dir)
        self.database_up.set()

    def _provider_window(self, fault: Fault) -> None:
        failure = {PROVIDER_TIMEOUT: "timeout", PROVIDER_5XX: "unavailable"}.get(fault.kind)
        latency_ms = self.rng.randint(1500, 4000) if fault.kind == PROVIDER_LATENCY else 0
        rate = 1.0 if fault.kind == PROVIDER_LATENCY else 0.6
        fault.note = f"latencyMs={latency_ms} failure={failure} rate={rate}"
        until = time.time() + fault.seconds
        staged = self.faults_file.with_suffix(".next")
        staged.write_text(json.dumps({"until": until, "latencyMs": latency_ms, "failure": failure, "rate": rate}))
        staged.replace(self.faults_file)  # atomically: a worker never reads half a file
        fault.injected = True
        time.sleep(fault.seconds)

    def _deliver(self, fault: Fault) -> None:
        """Delivers one event twice at once (a duplicate), or late (a delayed delivery: the event's time is
        when it was first due)."""
        name, _, what = fault.target.partition(" ")
        event = self._event_for(name, what)
        if event is None:
            fault.note = "no domain event recorded yet"
            return
        spec = self.spec(name)
        fault.injected = True
        if fault.kind == DELAYED:
            time.sleep(fault.seconds)
            self._invoke(spec, event)
            return
        twins = [threading.Thread(target=self._invoke, args=(spec, event)) for _ in range(2)]
        for twin in twins:
            twin.start()
        for twin in twins:
            twin.join()

    def _event_for(self, name: str, what: str) -> dict[str, Any] | None:
        if what == "tick":
            return scheduled_event(self.spec(name))
        detail_type = {"OutboxPublisherFunction": "BookingEventsToExpand", "RefundsFunction": "RefundsQueued"}
        if name in detail_type:
            return {**scheduled_event(self.spec(name)), "source": "ticketing", "detail-type": detail_type[name]}
        return self.latest_domain_event()

    def _invoke(self, spec: FunctionSpec, event: dict[str, Any]) -> None:
        # A delivery that fails (its worker killed, the database down) is EventBridge's to retry: not ours.
        with suppress(Exception):
            self.runtime.invoke(spec, {**event}, spec.timeout)

    def _kill_mid_batch(self, fault: Fault) -> None:
        spec = self.spec(fault.target)
        worker = threading.Thread(target=self._invoke, args=(spec, {**scheduled_event(spec), "id": str(uuid.uuid4())}))
        worker.start()
        time.sleep(self.rng.uniform(0.02, 0.3))
        fault.injected = self._kill_busy(fault.target)
        worker.join()


def run_schedule(injector: Injector, faults: list[Fault], started: float, stop: threading.Event) -> None:
    """Fires each fault at its time, in a thread of its own (an outage must not hold up the next kill)."""
    threads = []
    for fault in faults:
        if stop.wait(max(0.0, started + fault.at - time.monotonic())):
            break
        thread = threading.Thread(target=injector.inject, args=(fault,), name=f"fault-{fault.kind}", daemon=True)
        thread.start()
        threads.append(thread)
    for thread in threads:
        thread.join()
