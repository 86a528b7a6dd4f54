"""Execution environments like Lambda's: per function, a pool of worker processes (see docs/local-runner.md).

- A request takes an idle worker of its function; when all are busy and fewer than `max_environments` exist,
  a new one starts (a cold start); beyond that the request waits its turn, never refused. One worker per
  function runs its init at a time: on a 2-core machine, eight imports at once finish later than one after
  another, while the warm workers keep serving the queue.
- A worker serves one request at a time and keeps what the handler caches (its database connection).
- A worker that crashes or outlives the request's time is killed and forgotten; the next request starts a
  fresh one. The caller gets `FunctionCrashedError` / `InvocationTimeoutError` and answers 502 / 504.
- Idle workers are stopped after `idle_seconds`.
- Each worker gets exactly its own function's environment: the developer's environment, with the template's
  `Environment.Variables` of that function for the names the developer did not set.
- `LOCAL_NICENESS` lowers the CPU priority of some functions' environments: in Lambda every environment has
  CPU of its own, so a crowd at one function does not slow another; on a small machine, a benchmark can say
  which functions' crowd must not take the cores from the others.
- After each invocation a Lambda-style `REPORT` line goes to `report_log`, with `Init Duration` on a cold start.
"""

from __future__ import annotations

import json
import logging
import math
import multiprocessing
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

from devtools.runner_options import concurrency_from_environment, niceness_from_environment
from devtools.sam_template import FunctionSpec, SamApp
from devtools.worker import InitFailed, Invocation, Outcome, Ready, run_worker

DEFAULT_IDLE_SECONDS = 300.0
RESPONSE_PAYLOAD_LIMIT_BYTES = 6 * 1024 * 1024
# Local only: metrics go nowhere, so Powertools does not print them as EMF lines among the logs.
LOCAL_ENVIRONMENT_DEFAULTS = {"POWERTOOLS_METRICS_DISABLED": "true"}

logger = logging.getLogger("devtools")
reports = logging.getLogger("devtools.lambda")

LogLine = Callable[[str], None]

# forkserver: a worker is forked from a small, single-threaded server process, so it inherits no threads,
# locks or database connections of the runner, and starting one costs a fork rather than a new interpreter.
_context = multiprocessing.get_context("forkserver")
_context.set_forkserver_preload(["devtools.worker"])


class InvocationTimeoutError(Exception):
    pass


class FunctionCrashedError(Exception):
    """The handler raised, its worker died, or its result could not leave a real Lambda."""


class InvalidLambdaResponseError(FunctionCrashedError):
    """The result could not leave a real Lambda (too large or not JSON serialisable)."""


class RuntimeClosedError(Exception):
    pass


def result_from_payload(logical_id: str, payload: str) -> Any:
    """The handler's result as the caller receives it from Lambda, which refuses answers over 6 MB."""
    size = len(payload.encode("utf-8"))
    if size > RESPONSE_PAYLOAD_LIMIT_BYTES:
        raise InvalidLambdaResponseError(
            f"{logical_id} response is {size} bytes, exceeding Lambda's 6 MB "
            f"({RESPONSE_PAYLOAD_LIMIT_BYTES} bytes) response payload limit"
        )
    return json.loads(payload)


@dataclass(eq=False)
class _Worker:
    process: BaseProcess
    connection: Connection
    init_ms: float | None = None  # None until the worker reports its init done
    last_used: float = field(default_factory=time.monotonic)
    invoked: bool = False

    def stop(self) -> None:
        """Closing the pipe ends an idle worker's loop; anything still alive after that is killed."""
        self.connection.close()
        self.process.join(1)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()


class FunctionPool:
    """The execution environments of one function."""

    def __init__(
        self,
        spec: FunctionSpec,
        environment: Mapping[str, str],
        *,
        max_environments: int,
        report_log: LogLine,
        logs_to_stderr: bool = False,
        niceness: int = 0,
    ) -> None:
        self.spec = spec
        self._environment = dict(environment)
        self._max = max_environments
        self._niceness = niceness
        self._report_log = report_log
        self._logs_to_stderr = logs_to_stderr
        self._changed = threading.Condition()
        self._idle: list[_Worker] = []  # most recently used last: the oldest idle ones are reaped first
        self._busy: set[_Worker] = set()
        self._starting = 0
        self._closed = False

    @property
    def size(self) -> int:
        with self._changed:
            return len(self._idle) + len(self._busy) + self._starting

    def invoke(self, event: Any, timeout_seconds: float, *, gateway_seconds: float | None = None) -> Any:
        """Run the handler in one of this function's workers; answer its result as Lambda serialises it.

        `timeout_seconds` is the function's own timeout: it counts while the handler runs. `gateway_seconds`
        (API Gateway's 29 s) counts from arrival: waiting for a free worker and its init included.
        """
        arrived = time.monotonic()
        gateway_deadline = arrived + (gateway_seconds or timeout_seconds)
        worker = self._acquire(gateway_deadline)
        self._await_init(worker, gateway_deadline)
        request_id = str(uuid.uuid4())
        cold = not worker.invoked
        worker.invoked = True
        deadline = min(time.monotonic() + timeout_seconds, gateway_deadline)
        try:
            worker.connection.send(Invocation(event, request_id))
            if not worker.connection.poll(max(0.0, deadline - time.monotonic())):
                self._discard(worker)
                self._report(request_id, timeout_seconds * 1000, None, worker, cold, "Status: timeout")
                raise InvocationTimeoutError(f"{self.spec.logical_id} timed out after {timeout_seconds:g} s")
            outcome: Outcome = worker.connection.recv()
        except (EOFError, OSError) as lost:
            exit_code = self._discard(worker)
            self._report(request_id, 0.0, None, worker, cold, "Status: error\tError Type: Runtime.ExitError")
            raise FunctionCrashedError(
                f"{self.spec.logical_id}: its execution environment exited (exit code {exit_code}) "
                "before answering; a new one serves the next request"
            ) from lost
        self._release(worker)
        self._report(request_id, outcome.duration_ms, outcome.max_memory_mb, worker, cold, None)
        if outcome.error is not None:
            if outcome.invalid_result:
                raise InvalidLambdaResponseError(outcome.error)
            raise FunctionCrashedError(f"{self.spec.logical_id} raised:\n{outcome.error}")
        return result_from_payload(self.spec.logical_id, outcome.payload or "null")

    def _await_init(self, worker: _Worker, deadline: float) -> None:
        """Wait for a starting worker's init. Out of time, the worker is handed back still initialising (its
        init serves whoever comes next, instead of every request starting over on a busy machine)."""
        if worker.init_ms is not None:
            return
        try:
            if not worker.connection.poll(max(0.0, deadline - time.monotonic())):
                self._release(worker)
                raise InvocationTimeoutError(f"{self.spec.logical_id} is still running its init")
            greeting = worker.connection.recv()
        except (EOFError, OSError) as lost:
            self._discard(worker)
            raise FunctionCrashedError(f"{self.spec.logical_id}: its worker exited during init") from lost
        if isinstance(greeting, Ready):
            with self._changed:
                worker.init_ms = greeting.init_ms
                self._changed.notify_all()  # a waiting request may start the next worker now
            return
        self._discard(worker)
        details = greeting.traceback if isinstance(greeting, InitFailed) else repr(greeting)
        raise FunctionCrashedError(f"{self.spec.logical_id} failed during init:\n{details}")

    def busy_pids(self) -> list[int]:
        """The process ids of the workers answering a request right now (a fault hook: `python -m bench chaos`
        kills them mid-request; docs/local-runner.md)."""
        with self._changed:
            return [worker.process.pid for worker in self._busy if worker.process.pid is not None]

    def reap_idle(self, idle_seconds: float, now: float | None = None) -> int:
        """Stop the workers idle for longer than `idle_seconds`; answer how many were stopped."""
        now = time.monotonic() if now is None else now
        with self._changed:
            expired = [worker for worker in self._idle if now - worker.last_used > idle_seconds]
            self._idle = [worker for worker in self._idle if worker not in expired]
            self._changed.notify_all()
        for worker in expired:
            worker.stop()
        return len(expired)

    def close(self) -> None:
        """Stop every worker, busy ones included; waiting requests get RuntimeClosedError."""
        with self._changed:
            self._closed = True
            workers = [*self._idle, *self._busy]
            self._idle, self._busy = [], set()
            self._changed.notify_all()
        for worker in workers:
            worker.stop()

    def _acquire(self, deadline: float) -> _Worker:
        with self._changed:
            while True:
                if self._closed:
                    raise RuntimeClosedError("the runner is stopping")
                while self._idle:
                    worker = self._idle.pop()
                    if worker.process.is_alive():
                        self._busy.add(worker)
                        return worker
                    worker.connection.close()  # died while idle (killed from outside): forget it

                initialising = any(worker.init_ms is None for worker in [*self._idle, *self._busy])
                if len(self._busy) + self._starting < self._max and not (self._starting or initialising):
                    self._starting += 1
                    break
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise InvocationTimeoutError(
                        f"{self.spec.logical_id}: all {self._max} execution environments stayed busy"
                    )
                self._changed.wait(remaining)
        try:
            worker = self._start_worker()
        finally:
            with self._changed:
                self._starting -= 1
                self._changed.notify()
        with self._changed:
            if self._closed:
                worker.stop()
                raise RuntimeClosedError("the runner is stopping")
            self._busy.add(worker)
        return worker

    def _start_worker(self) -> _Worker:
        parent_end, child_end = _context.Pipe()
        process = _context.Process(
            target=run_worker,
            args=(self.spec, self._environment, child_end, self._logs_to_stderr),
            name=f"lambda-{self.spec.logical_id}",
            daemon=True,
        )
        process.start()
        child_end.close()
        if self._niceness and process.pid is not None:
            os.setpriority(os.PRIO_PROCESS, process.pid, self._niceness)
        return _Worker(process, parent_end)

    def _release(self, worker: _Worker) -> None:
        worker.last_used = time.monotonic()
        with self._changed:
            self._busy.discard(worker)
            if self._closed:
                worker.stop()
                return
            self._idle.append(worker)
            self._changed.notify()

    def _discard(self, worker: _Worker) -> int | None:
        worker.process.kill()
        worker.process.join()
        worker.connection.close()
        with self._changed:
            self._busy.discard(worker)
            self._changed.notify_all()
        return worker.process.exitcode

    def _report(
        self,
        request_id: str,
        duration_ms: float,
        memory_mb: int | None,
        worker: _Worker,
        cold: bool,
        status: str | None,
    ) -> None:
        parts = [
            f"REPORT RequestId: {request_id}",
            f"Function: {self.spec.logical_id}",
            f"Duration: {duration_ms:.2f} ms",
            f"Billed Duration: {max(1, math.ceil(duration_ms))} ms",
            f"Memory Size: {self.spec.memory_size} MB",
        ]
        if memory_mb is not None:
            parts.append(f"Max Memory Used: {memory_mb} MB")
        if cold and worker.init_ms is not None:
            parts.append(f"Init Duration: {worker.init_ms:.2f} ms")
        if status:
            parts.append(status)
        self._report_log("\t".join(parts))


class LambdaRuntime:
    """Every function's pool, created on first use, and the thread that reaps idle workers."""

    def __init__(
        self,
        functions: Iterable[FunctionSpec],
        *,
        max_environments: int | None = None,
        idle_seconds: float = DEFAULT_IDLE_SECONDS,
        report_log: LogLine | None = None,
        logs_to_stderr: bool = False,
        base_environment: Mapping[str, str] | None = None,
    ) -> None:
        self._functions = {function.logical_id: function for function in functions}
        self.max_environments = max_environments or concurrency_from_environment()
        self.idle_seconds = idle_seconds
        self._report_log = report_log or reports.info
        self._logs_to_stderr = logs_to_stderr
        self._base_environment = dict(developer_environment() if base_environment is None else base_environment)
        self._niceness = niceness_from_environment()
        self._pools: dict[str, FunctionPool] = {}
        self._guard = threading.Lock()
        self._stopped = threading.Event()
        self._reaper = threading.Thread(target=self._reap_forever, name="lambda-reaper", daemon=True)
        self._reaper.start()

    @classmethod
    def for_app(cls, app: SamApp, **options: Any) -> LambdaRuntime:
        return cls(app.functions, **options)

    def pool(self, logical_id: str) -> FunctionPool:
        with self._guard:
            if self._stopped.is_set():
                raise RuntimeClosedError("the runner is stopping")
            if logical_id not in self._pools:
                spec = self._functions[logical_id]
                self._pools[logical_id] = FunctionPool(
                    spec,
                    function_environment(spec, self._base_environment),
                    max_environments=self.max_environments,
                    report_log=self._report_log,
                    logs_to_stderr=self._logs_to_stderr,
                    niceness=self._niceness.get(logical_id, 0),
                )
            return self._pools[logical_id]

    def invoke(
        self, spec: FunctionSpec, event: Any, timeout_seconds: float, *, gateway_seconds: float | None = None
    ) -> Any:
        return self.pool(spec.logical_id).invoke(event, timeout_seconds, gateway_seconds=gateway_seconds)

    def busy_pids(self, logical_id: str) -> list[int]:
        """The busy workers of one function (none when it never ran): see FunctionPool.busy_pids."""
        with self._guard:
            pool = self._pools.get(logical_id)
        return pool.busy_pids() if pool else []

    def reap_idle(self, now: float | None = None) -> int:
        with self._guard:
            pools = list(self._pools.values())
        return sum(pool.reap_idle(self.idle_seconds, now) for pool in pools)

    def close(self) -> None:
        self._stopped.set()
        with self._guard:
            pools = list(self._pools.values())
        for pool in pools:
            pool.close()
        if self._reaper is not threading.current_thread():
            self._reaper.join()

    def _reap_forever(self) -> None:
        while not self._stopped.wait(min(30.0, max(0.05, self.idle_seconds / 2))):
            self.reap_idle()


# Names that apply_template_environment copied into this process's environment (the in-process invoke path
# shares one environment between functions); a worker's environment leaves them out.
template_names_in_environ: set[str] = set()


def developer_environment() -> dict[str, str]:
    return {name: value for name, value in os.environ.items() if name not in template_names_in_environ}


def function_environment(spec: FunctionSpec, base: Mapping[str, str]) -> dict[str, str]:
    """What a function's worker sees: the developer's environment over the function's template variables."""
    return {**LOCAL_ENVIRONMENT_DEFAULTS, **spec.environment, **base}
