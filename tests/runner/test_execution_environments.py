"""The runner's execution environments over real HTTP: worker processes per function, like Lambda's.

Requests that must stay busy block on a FIFO (the fixture's GateFunction) until the test writes to it, so
every concurrency case here is decided by the test, not by timing.
"""

from __future__ import annotations

import http.client
import json
import os
import queue
import signal
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import pytest

from devtools.lambda_pool import InvocationTimeoutError, LambdaRuntime
from devtools.runner_options import niceness_from_environment
from devtools.sam_template import load_template
from devtools.server import create_server

TEMPLATE = Path(__file__).parent / "fixtures" / "template.yaml"
SIMULTANEOUS_CLIENTS = 300


@dataclass
class Runner:
    host: str
    port: int
    runtime: LambdaRuntime
    reports: queue.Queue[str]

    def get(self, path: str) -> tuple[int, Any]:
        connection = http.client.HTTPConnection(self.host, self.port, timeout=60)
        try:
            connection.request("GET", path)
            response = connection.getresponse()
            return response.status, json.loads(response.read())
        finally:
            connection.close()


def start_runner(max_environments: int) -> Iterator[Runner]:
    reports: queue.Queue[str] = queue.Queue()
    app = load_template(TEMPLATE)
    runtime = LambdaRuntime.for_app(app, max_environments=max_environments, report_log=reports.put)
    server = create_server(app, "127.0.0.1", 0, request_log=lambda line: None, runtime=runtime)
    host, port = server.server_address[:2]
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield Runner(str(host), int(port), runtime, reports)
    finally:
        server.shutdown()
        server.server_close()
        runtime.close()
        thread.join()


@pytest.fixture
def runner() -> Iterator[Runner]:
    yield from start_runner(max_environments=2)


@pytest.fixture
def single_environment_runner() -> Iterator[Runner]:
    yield from start_runner(max_environments=1)


@pytest.fixture
def gates(tmp_path: Path) -> Any:
    def make(name: str) -> Path:
        path = tmp_path / name
        os.mkfifo(path)
        return path

    return make


def release(gate: Path, word: str) -> None:
    # Opening a FIFO for writing waits until the handler has opened it for reading: the request is running.
    with open(gate, "w") as writer:
        writer.write(word + "\n")


def running(gate: Path, within_seconds: float = 30) -> TextIO:
    """The gate's write end, once its handler is blocked reading it: that request is running, right now.

    Opening a FIFO for writing returns only when a reader has it open; the open runs in a thread so a
    request that never reaches its handler fails the test instead of hanging it.
    """
    opened: queue.Queue[TextIO] = queue.Queue()
    threading.Thread(target=lambda: opened.put(open(gate, "w")), daemon=True).start()  # noqa: SIM115 - closed by answer()
    try:
        return opened.get(timeout=within_seconds)
    except queue.Empty:
        os.close(os.open(gate, os.O_RDONLY | os.O_NONBLOCK))  # lets the waiting open finish
        pytest.fail(f"no handler opened {gate.name} within {within_seconds} s")


def answer(writer: TextIO, word: str) -> None:
    with writer:
        writer.write(word + "\n")


def in_background(runner: Runner, path: str) -> Any:
    executor = ThreadPoolExecutor(max_workers=1)
    future = executor.submit(runner.get, path)
    executor.shutdown(wait=False)
    return future


def test_hundreds_of_simultaneous_clients_are_all_answered_by_a_bounded_pool(runner: Runner) -> None:
    start = threading.Barrier(SIMULTANEOUS_CLIENTS)

    def client(index: int) -> int:
        start.wait()
        status, body = runner.get(f"/items/{index}")
        assert body["event"]["pathParameters"] == {"id": str(index)}
        return status

    with ThreadPoolExecutor(max_workers=SIMULTANEOUS_CLIENTS) as executor:
        statuses = list(executor.map(client, range(SIMULTANEOUS_CLIENTS)))

    assert statuses == [200] * SIMULTANEOUS_CLIENTS
    assert 1 <= runner.runtime.pool("EchoFunction").size <= 2


def test_a_busy_function_does_not_block_another_function(runner: Runner, gates: Any) -> None:
    gate = gates("gate")
    blocked = in_background(runner, f"/gate?fifo={gate}")
    blocked_gate = running(gate)

    status, _ = runner.get("/items/1")

    assert status == 200
    assert not blocked.done()
    answer(blocked_gate, "go")
    status, body = blocked.result(timeout=30)
    assert (status, body["released"]) == (200, "go")


def test_a_second_concurrent_request_gets_a_second_environment(runner: Runner, gates: Any) -> None:
    first_gate, second_gate = gates("first"), gates("second")
    first = in_background(runner, f"/gate?fifo={first_gate}")
    second = in_background(runner, f"/gate?fifo={second_gate}")
    # Both handlers are blocked on their gates at the same moment before either is released.
    first_writer, second_writer = running(first_gate), running(second_gate)
    assert (first.done(), second.done()) == (False, False)

    answer(first_writer, "one")
    answer(second_writer, "two")

    pids = {first.result(timeout=30)[1]["pid"], second.result(timeout=30)[1]["pid"]}
    assert len(pids) == 2
    assert runner.runtime.pool("GateFunction").size == 2


def test_beyond_the_limit_a_request_waits_for_a_free_environment(single_environment_runner: Runner, gates: Any) -> None:
    runner = single_environment_runner
    first_gate, second_gate = gates("first"), gates("second")
    first = in_background(runner, f"/gate?fifo={first_gate}")
    second = in_background(runner, f"/gate?fifo={second_gate}")

    # Whichever request got the only environment is released first; the other one has waited for it.
    releases = [threading.Thread(target=release, args=(gate, gate.name)) for gate in (first_gate, second_gate)]
    for thread in releases:
        thread.start()
    answers = [first.result(timeout=30), second.result(timeout=30)]
    for thread in releases:
        thread.join()

    assert [status for status, _ in answers] == [200, 200]
    assert answers[0][1]["pid"] == answers[1][1]["pid"]
    assert runner.runtime.pool("GateFunction").size == 1


def test_a_killed_worker_answers_502_and_is_replaced(runner: Runner) -> None:
    _, before = runner.get("/process")

    status, body = runner.get("/process?die=1")
    after_status, after = runner.get("/process")

    assert (status, body["error"]["code"]) == (502, "INTERNAL")
    assert after_status == 200
    assert after["pid"] != before["pid"]
    with pytest.raises(ProcessLookupError):
        os.kill(before["pid"], 0)


def test_each_worker_sees_its_own_functions_service_name(runner: Runner) -> None:
    _, body = runner.get("/process")

    assert body["service"] == "process-fixture"


def test_a_report_line_per_invocation_with_init_duration_on_the_cold_start_only(runner: Runner) -> None:
    runner.get("/process")
    runner.get("/process")

    cold, warm = runner.reports.get(timeout=5), runner.reports.get(timeout=5)
    assert cold.startswith("REPORT RequestId: ")
    assert "\tFunction: ProcessFunction\tDuration: " in cold
    assert "\tInit Duration: " in cold
    assert "Init Duration" not in warm


def test_idle_workers_are_reaped_and_the_next_request_starts_cold(runner: Runner) -> None:
    _, first = runner.get("/process")
    runner.reports.get(timeout=5)

    reaped = runner.runtime.reap_idle(now=float("inf"))
    _, second = runner.get("/process")

    assert reaped == 1
    assert second["pid"] != first["pid"]
    assert "Init Duration" in runner.reports.get(timeout=5)


def test_closing_the_runtime_stops_every_worker() -> None:
    started = start_runner(max_environments=2)
    runner = next(started)
    _, body = runner.get("/process")

    started.close()

    with pytest.raises(ProcessLookupError):
        os.kill(body["pid"], 0)


def test_an_init_that_outlasts_a_request_is_kept_for_the_next_request(gates: Any) -> None:
    init_gate = gates("init")
    reports: queue.Queue[str] = queue.Queue()
    [slow_init] = [f for f in load_template(TEMPLATE).functions if f.logical_id == "SlowInitFunction"]
    runtime = LambdaRuntime(
        [slow_init], max_environments=1, report_log=reports.put, base_environment={"INIT_GATE": str(init_gate)}
    )
    try:
        with pytest.raises(InvocationTimeoutError, match="still running its init"):
            runtime.invoke(slow_init, {}, 5, gateway_seconds=0.01)
        release(init_gate, "done")  # opens only while the first worker's import waits on the gate

        answer = runtime.invoke(slow_init, {}, 5, gateway_seconds=60)

        assert answer["statusCode"] == 200
        assert runtime.pool("SlowInitFunction").size == 1
        assert "\tInit Duration: " in reports.get(timeout=5)
    finally:
        runtime.close()


def test_the_busy_workers_pids_name_the_worker_of_the_running_request(runner: Runner, gates: Any) -> None:
    # Given a request blocked in its handler (the chaos bench's kill hook reads these pids)
    gate = gates("busy")
    blocked = in_background(runner, f"/gate?fifo={gate}")
    writer = running(gate)

    busy = runner.runtime.busy_pids("GateFunction")

    assert len(busy) == 1
    assert runner.runtime.busy_pids("EchoFunction") == []
    answer(writer, "go")
    status, body = blocked.result(timeout=30)
    assert (status, body["pid"]) == (200, busy[0])


def test_a_worker_killed_mid_request_answers_502_in_the_envelope(runner: Runner, gates: Any) -> None:
    # Given a request blocked in its handler
    gate = gates("doomed")
    blocked = in_background(runner, f"/gate?fifo={gate}")
    writer = running(gate)
    (pid,) = runner.runtime.busy_pids("GateFunction")

    os.kill(pid, signal.SIGKILL)

    status, body = blocked.result(timeout=30)
    assert (status, body["error"]["code"]) == (502, "INTERNAL")
    assert runner.runtime.busy_pids("GateFunction") == []
    writer.close()


def test_a_function_named_in_local_niceness_runs_at_that_cpu_priority(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the runner started with LOCAL_NICENESS naming one function
    monkeypatch.setenv("LOCAL_NICENESS", "ProcessFunction=7")
    runner = start_runner(max_environments=1)
    started = next(runner)
    try:
        # When that function serves a request
        status, body = started.get("/process")

        # Then its environment runs at that priority
        assert status == 200
        assert os.getpriority(os.PRIO_PROCESS, body["pid"]) == 7
    finally:
        runner.close()


def test_functions_not_named_in_local_niceness_keep_the_runners_priority(runner: Runner) -> None:
    status, body = runner.get("/process")

    assert status == 200
    assert os.getpriority(os.PRIO_PROCESS, body["pid"]) == os.getpriority(os.PRIO_PROCESS, 0)


@pytest.mark.parametrize("value", ["ProcessFunction", "ProcessFunction=20", "ProcessFunction=-1", "ProcessFunction=x"])
def test_a_local_niceness_entry_outside_0_to_19_is_refused(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("LOCAL_NICENESS", value)

    with pytest.raises(ValueError, match="LOCAL_NICENESS"):
        niceness_from_environment()
