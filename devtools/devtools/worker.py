"""The inside of one execution environment: a process that imports one function's handler once and runs it.

This module is what a worker process starts from (see devtools/devtools/lambda_pool.py for the side that
starts, feeds, replaces and reaps them). It imports little, so a fresh worker's start-up is dominated by
importing the handler, which is what it reports as its init duration, like Lambda's `Init Duration`.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import time
import traceback
import warnings
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from devtools.lambda_context import LambdaContext
from devtools.lambda_loader import load_handler
from devtools.sam_template import FunctionSpec


@dataclass(frozen=True)
class Invocation:
    event: Any
    request_id: str


@dataclass(frozen=True)
class Ready:
    init_ms: float


@dataclass(frozen=True)
class InitFailed:
    traceback: str


@dataclass(frozen=True)
class Outcome:
    """One invocation's answer: `payload` (the result as Lambda serialises it) or `error` (what went wrong)."""

    payload: str | None
    error: str | None
    # True when the result was not JSON serialisable (Lambda's Runtime.MarshalError), not a handler exception.
    invalid_result: bool
    duration_ms: float
    max_memory_mb: int


def run_worker(spec: FunctionSpec, environment: dict[str, str], connection: Connection, logs_to_stderr: bool) -> None:
    """The worker loop: take the function's environment, import its handler, answer invocations until EOF."""
    # The runner stops its workers itself; a Ctrl-C or hang-up sent to the whole terminal must not
    # interrupt a request half-way.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    if logs_to_stderr:
        os.dup2(2, 1)
    # Locally nothing collects metrics; Powertools would warn on every request that it had none to flush.
    warnings.filterwarnings("ignore", message="No application metrics to publish", category=UserWarning)
    os.environ.clear()
    os.environ.update(environment)
    started = time.perf_counter()
    try:
        handler = load_handler(spec)
    except BaseException:
        connection.send(InitFailed(traceback.format_exc()))
        return
    connection.send(Ready((time.perf_counter() - started) * 1000))
    while True:
        try:
            invocation: Invocation = connection.recv()
        except (EOFError, OSError):
            return  # the runner closed the pipe or died: this environment ends with it
        connection.send(_invoke(spec, handler, invocation))


def _invoke(spec: FunctionSpec, handler: Any, invocation: Invocation) -> Outcome:
    context = LambdaContext(spec.logical_id, spec.memory_size, spec.timeout)
    context.aws_request_id = invocation.request_id
    started = time.perf_counter()
    payload: str | None = None
    error: str | None = None
    invalid = False
    try:
        result = handler(invocation.event, context)
    except Exception:
        error = traceback.format_exc()
    else:
        try:
            payload = json.dumps(result)
        except (TypeError, ValueError) as problem:
            error, invalid = f"{spec.logical_id} returned a non-JSON value: {problem}", True
    duration_ms = (time.perf_counter() - started) * 1000
    max_memory_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    return Outcome(payload, error, invalid, duration_ms, max_memory_mb)
