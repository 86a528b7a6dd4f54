"""Serve a SAM template locally: ``python -m devtools.run_api --template FILE``."""

from __future__ import annotations

import argparse
import logging
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any

from devtools.lambda_pool import LambdaRuntime
from devtools.sam_template import load_template
from devtools.server import Scheduler, create_server, logger

# A closed terminal (SIGHUP) stops the runner like Ctrl-C and SIGTERM: workers and database included.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def serve(
    template_path: Path | str,
    host: str,
    port: int,
    schedule_seconds: float,
    stop_event: threading.Event | None = None,
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Serve until SIGINT (Ctrl-C), SIGTERM, SIGHUP or ``stop_event``; every worker is stopped on the way out.

    ``schedule_seconds <= 0`` disables scheduled invocations. ``on_ready`` gets the base URL once serving.
    """
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    stop = stop_event or threading.Event()
    app = load_template(template_path)
    runtime = LambdaRuntime.for_app(app)
    try:
        server = create_server(app, host, port, runtime=runtime)
    except BaseException:
        runtime.close()
        raise
    scheduler = Scheduler(app, schedule_seconds, runtime=runtime)
    for function in app.functions:
        for route in function.api_events:
            logger.debug("%-7s %s -> %s", route.method, route.path, function.logical_id)
    base_url = _base_url(server.server_address)
    logger.info("Serving on %s (up to %d execution environments per function)", base_url, runtime.max_environments)

    server_thread = threading.Thread(target=server.serve_forever, name="api-server", daemon=True)
    server_thread.start()
    if schedule_seconds > 0 and scheduler.functions:
        scheduler.start()
    restore_signals = _stop_on_signals(stop)
    try:
        if on_ready:
            on_ready(base_url)
        stop.wait()
        logger.info("Stopping")
    finally:
        restore_signals()
        scheduler.stop()
        server.shutdown()
        server.server_close()
        runtime.close()
        logger.info("Stopped")


@contextmanager
def running_api(template_path: Path | str, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """The runner serving ``template_path`` in the background (no scheduler); yields its base URL.

    Tests, benchmarks and the fuzzer start the API through this one door, whatever the runner does inside.
    Workers see the environment as it is when this is entered (DATABASE_URL included) and stop on exit.
    """
    server = create_server(load_template(template_path), host, port, request_log=lambda line: None)
    thread = threading.Thread(target=server.serve_forever, name="api-server", daemon=True)
    thread.start()
    try:
        yield _base_url(server.server_address)
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def running_api_process(template_path: Path | str, log: Path, host: str = "127.0.0.1") -> Iterator[str]:
    """The runner in a process of its own (no scheduler), its output in `log`; yields its base URL once
    /api/health answers.

    For crowds of clients in one process: their event loop and the runner's front door then share no
    interpreter lock, as browsers and API Gateway share nothing. Workers see this process's environment as it
    is when this is entered. Stopped with SIGTERM (its documented stop: workers first) on exit.
    """
    with socket.socket() as probe:
        probe.bind((host, 0))
        port = probe.getsockname()[1]
    base_url = f"http://{host}:{port}"
    command = [sys.executable, "-m", "devtools.run_api", "--template", str(template_path), "--host", host]
    with log.open("w") as sink:
        child = subprocess.Popen(  # noqa: S603 - this interpreter, our module, our arguments
            [*command, "--port", str(port), "--schedule-seconds", "0"], stdout=sink, stderr=sink
        )
    try:
        _wait_until_healthy(child, base_url, log)
        yield base_url
    finally:
        child.terminate()
        try:
            child.wait(timeout=60)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def _wait_until_healthy(child: subprocess.Popen[bytes], base_url: str, log: Path, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if child.poll() is not None:
            raise RuntimeError(f"the runner exited with {child.returncode} before it answered; see {log}")
        try:
            with urllib.request.urlopen(f"{base_url}/api/health", timeout=2):  # noqa: S310 - our loopback server
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"the runner did not answer /api/health within {seconds:.0f} s; see {log}")


def _base_url(address: Any) -> str:
    host, port = address[:2]
    return f"http://{host}:{port}"


def _stop_on_signals(stop: threading.Event) -> Callable[[], None]:
    # Only the main thread may install signal handlers; serve() may run in another.
    if threading.current_thread() is not threading.main_thread():
        return lambda: None

    def on_signal(signum: int, frame: FrameType | None) -> None:
        logger.info("%s received", signal.Signals(signum).name)
        stop.set()

    previous = {signum: signal.signal(signum, on_signal) for signum in STOP_SIGNALS}

    def restore() -> None:
        for signum, handler in previous.items():
            signal.signal(signum, handler)

    return restore


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--template", type=Path, default=Path("template.yaml"))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=3000)
    parser.add_argument(
        "--schedule-seconds",
        type=float,
        default=60.0,
        help="interval between scheduled invocations; 0 disables them",
    )
    arguments = parser.parse_args()
    serve(arguments.template, arguments.host, arguments.port, arguments.schedule_seconds)


if __name__ == "__main__":
    main()
