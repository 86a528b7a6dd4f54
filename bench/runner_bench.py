"""The local runner under an on-sale burst: CLIENTS connections opened at the same instant, over real HTTP.

(a) GET /api/health, (b) POST /api/bookings/hold-seats (each client its own buyer and seat, one event), both
through `running_api` (worker processes, LOCAL_CONCURRENCY per function). Every client must be answered (no
connection reset, no refusal); wall time from the release of all clients to the last answer, latency p50/p99.
(c) Cold starts: the REPORT lines' `Init Duration` of each HTTP function, from a fresh runtime per round.
Medians of RUNS runs go to bench/results/runner.md.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import logging
import re
import statistics
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

from bench.bookings_bench import _buyers, _format, _percentile, _seed_event
from bench.harness import bench_setup, write_results

RUNS = 3
CLIENTS = 500
INIT_ROUNDS = 3
REPO_ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = REPO_ROOT / "template.yaml"
RESULTS = REPO_ROOT / "bench" / "results" / "runner.md"
INIT_DURATION = re.compile(r"Function: (?P<function>\w+)\t.*Init Duration: (?P<ms>[\d.]+) ms")

Request = tuple[str, str, bytes, dict[str, str]]


def _burst(base_url: str, requests: list[Request]) -> dict[str, float]:
    """Sends every request on its own connection, all released at once; answers wall time and latencies."""
    address = urlsplit(base_url)
    start = threading.Barrier(len(requests) + 1)

    def client(request: Request) -> tuple[int | str, float]:
        method, path, body, headers = request
        connection = http.client.HTTPConnection(address.hostname or "127.0.0.1", address.port, timeout=120)
        start.wait()
        began = time.perf_counter()
        try:
            connection.request(method, path, body=body or None, headers=headers)
            response = connection.getresponse()
            response.read()
            return response.status, time.perf_counter() - began
        except OSError as error:
            return type(error).__name__, time.perf_counter() - began
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(requests)) as executor:
        futures = [executor.submit(client, request) for request in requests]
        start.wait()
        released = time.perf_counter()
        outcomes = [future.result() for future in futures]
        wall = time.perf_counter() - released
    failures = [status for status, _ in outcomes if status != 200]
    assert not failures, f"{len(failures)} of {len(requests)} not answered 200: {sorted(set(map(str, failures)))}"
    latencies = [latency for _, latency in outcomes]
    return {
        "wall (s)": wall,
        "p50 (ms)": statistics.median(latencies) * 1000,
        "p99 (ms)": _percentile(latencies, 0.99) * 1000,
        "answered": len(outcomes),
    }


def _health_requests() -> list[Request]:
    return [("GET", "/api/health", b"", {})] * CLIENTS


def _hold_requests() -> list[Request]:
    event_id, seats = _seed_event(rows=CLIENTS // 100 + 1, seats_per_row=100)
    return [
        (
            "POST",
            "/api/bookings/hold-seats",
            json.dumps({"eventId": str(event_id), "seatIds": [str(seat)]}).encode(),
            {"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
        )
        for (_, token), seat in zip(_buyers(CLIENTS), seats, strict=False)
    ]


class _Reports(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def _init_durations() -> dict[str, list[float]]:
    """Each HTTP function started cold INIT_ROUNDS times (one at a time, in a fresh worker)."""
    from devtools.lambda_pool import FunctionCrashedError, LambdaRuntime
    from devtools.sam_template import load_template

    functions = [function for function in load_template(TEMPLATE).functions if function.api_events]
    durations: dict[str, list[float]] = {function.logical_id: [] for function in functions}
    for _ in range(INIT_ROUNDS):
        lines: list[str] = []
        runtime = LambdaRuntime(functions, max_environments=1, report_log=lines.append)
        try:
            for function in functions:
                with contextlib.suppress(FunctionCrashedError):  # {} is no request: only the init counts
                    runtime.invoke(function, {}, function.timeout)
        finally:
            runtime.close()
        for line in lines:
            if found := INIT_DURATION.search(line):
                durations[found["function"]].append(float(found["ms"]))
    return durations


def _runs(name: str, base_url: str, make_requests: Callable[[], list[Request]]) -> dict[str, list[float]]:
    figures: dict[str, list[float]] = {}
    for _ in range(RUNS):
        for measure, value in _burst(base_url, make_requests()).items():
            figures.setdefault(f"{name} {measure}", []).append(value)
    return figures


def main() -> None:
    with bench_setup("runner_bench") as setup:
        from devtools.run_api import running_api

        reports = _Reports()
        logging.getLogger("devtools.lambda").addHandler(reports)
        logging.getLogger("devtools.lambda").setLevel(logging.INFO)
        with running_api(TEMPLATE) as base_url:
            figures = _runs(f"{CLIENTS} x GET /api/health", base_url, _health_requests)
            figures.update(_runs(f"{CLIENTS} x hold-seats", base_url, _hold_requests))
        logging.getLogger("devtools.lambda").removeHandler(reports)
        workers = {found["function"] for line in reports.lines if (found := INIT_DURATION.search(line))}
        init = _init_durations()
        rows = [_format(name, values) for name, values in figures.items()]
        rows += [_format(f"cold start: {name} Init Duration (ms)", values) for name, values in init.items() if values]
        header = [
            "# Local runner under a burst",
            "",
            f"`python -m bench runner`: {CLIENTS} clients open their connections at the same instant against the",
            "runner (worker processes, LOCAL_CONCURRENCY=8 per function), for GET /api/health and for hold-seats",
            "(each client its own buyer and seat). Every one must be answered 200: no reset, no refusal. Wall =",
            "release of all clients to the last answer. Cold starts: the REPORT lines' Init Duration, each HTTP",
            f"function started {INIT_ROUNDS} times one at a time. Medians of {RUNS} runs, with the range.",
            f"Functions that started workers during the bursts: {', '.join(sorted(workers))}.",
        ]
        write_results(RESULTS, header, setup.postgres_version, rows)
