"""`make run` as a newcomer meets it: it refuses a taken port before starting anything, tells where things are
once ready, and whatever stops it (Ctrl-C, SIGTERM, a closed terminal, a hard kill and a restart) leaves no
PostgreSQL and no worker behind.

Each runner here is a real `python -m devtools.local_stack serve` process with its own data directory.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest

from devtools.db_watchdog import HANDLE_PIDS_FILE, forget_dead_handles

REPO_ROOT = Path(__file__).resolve().parents[2]
READY_LINE = "Ticket booking API is ready"
STARTUP_SECONDS = 180


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def runner_environment(port: int) -> dict[str, str]:
    environment = {name: value for name, value in os.environ.items() if name != "DATABASE_URL"}
    environment.update(PORT=str(port), LOCAL_SCHEDULE_SECONDS="0", BCRYPT_ROUNDS="4", LOCAL_CONCURRENCY="2")
    return environment


@dataclass
class Runner:
    process: subprocess.Popen[str]
    port: int
    data_dir: Path
    output: list[str]

    def postmaster_pid(self) -> int:
        return int((self.data_dir / "postmaster.pid").read_text().split()[0])

    def descendants(self) -> list[psutil.Process]:
        return psutil.Process(self.process.pid).children(recursive=True)

    def get(self, path: str) -> int:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=60) as response:
            return int(response.status)

    def stop_with(self, signum: int) -> int:
        self.process.send_signal(signum)
        return self.process.wait(timeout=120)


def start_runner(data_dir: Path) -> Runner:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "devtools.local_stack", "serve", "--data-dir", str(data_dir)],
        cwd=REPO_ROOT,
        env=runner_environment(port),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    lines: queue.Queue[str] = queue.Queue()
    output: list[str] = []

    def read(stream: object) -> None:
        for line in process.stderr:  # type: ignore[union-attr]
            output.append(line)
            lines.put(line)
        lines.put("")

    threading.Thread(target=read, args=(process.stderr,), daemon=True).start()
    while True:
        line = lines.get(timeout=STARTUP_SECONDS)
        assert line, "".join(output)
        if READY_LINE in line:
            break
    banner: list[str] = []
    while len(banner) < 9:
        banner.append(lines.get(timeout=30))
    output_text = "".join(banner)
    assert f"http://127.0.0.1:{port}/api/docs" in output_text
    return Runner(process, port, data_dir, output)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("local-stack") / "pgdata"


@pytest.fixture
def runner(data_dir: Path) -> Iterator[Runner]:
    started = start_runner(data_dir)
    yield started
    if started.process.poll() is None:
        started.stop_with(signal.SIGTERM)


def assert_gone(processes: list[psutil.Process]) -> None:
    _, alive = psutil.wait_procs(processes, timeout=60)
    assert alive == []


def test_a_taken_port_is_refused_in_one_line_before_anything_starts(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        finished = subprocess.run(
            [sys.executable, "-m", "devtools.local_stack", "serve", "--data-dir", str(tmp_path / "pgdata")],
            cwd=REPO_ROOT,
            env=runner_environment(port),
            capture_output=True,
            text=True,
            timeout=120,
        )

    assert finished.returncode == 2
    assert finished.stderr.splitlines() == [
        f"make run: port {port} on 127.0.0.1 is already in use; choose another one with PORT=<port> make run"
    ]
    assert not (tmp_path / "pgdata").exists()


def test_the_banner_tells_where_everything_is(runner: Runner) -> None:
    banner = "".join(runner.output)

    for expected in (
        f"http://127.0.0.1:{runner.port}/api ",
        "customer@example.com (USER)",
        "demo-password",
        "tok_visa",
        "tok_chargeDeclined",
        "tok_refundFailsOnce",
        str(runner.data_dir),
        "Ctrl-C",
    ):
        assert expected in banner


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP], ids=lambda s: s.name)
def test_a_stop_signal_stops_postgres_and_every_worker(runner: Runner, signum: int) -> None:
    assert runner.get("/api/health") == 200
    workers = runner.descendants()
    postgres = psutil.Process(runner.postmaster_pid())
    assert workers

    exit_code = runner.stop_with(signum)

    assert exit_code == 0
    assert_gone([*workers, postgres])


def test_after_a_hard_kill_neither_workers_nor_postgres_keep_running(data_dir: Path) -> None:
    crashed = start_runner(data_dir)
    assert crashed.get("/api/health") == 200
    workers = crashed.descendants()
    postgres = psutil.Process(crashed.postmaster_pid())

    crashed.process.kill()
    crashed.process.wait(timeout=60)

    # Workers end when their pipe to the runner closes; the database watchdog stops PostgreSQL.
    assert_gone([*workers, postgres])
    assert json.loads((data_dir / HANDLE_PIDS_FILE).read_text()) == []


def test_a_stale_handle_pid_from_a_crash_is_recovered_on_the_next_start(data_dir: Path) -> None:
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / HANDLE_PIDS_FILE).write_text(json.dumps([ended.pid]))
    runner = start_runner(data_dir)
    postgres = psutil.Process(runner.postmaster_pid())

    assert runner.stop_with(signal.SIGTERM) == 0

    assert_gone([postgres])


def test_dead_handle_pids_are_forgotten_and_live_ones_kept(tmp_path: Path) -> None:
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    (tmp_path / HANDLE_PIDS_FILE).write_text(json.dumps([ended.pid, os.getpid()]))

    forgotten = forget_dead_handles(tmp_path)

    assert forgotten == [ended.pid]
    assert json.loads((tmp_path / HANDLE_PIDS_FILE).read_text()) == [os.getpid()]


def local_stack(command: str, data_dir: Path, sql: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "devtools.local_stack", command, "--data-dir", str(data_dir)],
        cwd=REPO_ROOT,
        env=runner_environment(free_port()),
        input=sql,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_db_reset_gives_a_fresh_database_with_the_demo_data_and_psql_opens_it(tmp_path: Path) -> None:
    data_dir = tmp_path / "pgdata"
    assert local_stack("reset", data_dir).returncode == 0
    added = local_stack(
        "psql", data_dir, "INSERT INTO users (email, password_hash, name) VALUES ('extra@example.com', 'x', 'X');"
    )
    assert (added.returncode, added.stdout.strip()) == (0, "INSERT 0 1")

    reset = local_stack("reset", data_dir)
    listed = local_stack("psql", data_dir, "SELECT email FROM users ORDER BY email;")

    assert reset.returncode == 0, reset.stderr
    emails = {line.strip() for line in listed.stdout.splitlines() if "@" in line}
    assert {"admin@example.com", "customer@example.com", "organizer@example.com"} <= emails
    assert "extra@example.com" not in emails
