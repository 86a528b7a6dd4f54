"""Serve a SAM template locally: ``python -m devtools.run_api --template FILE``."""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

from devtools.sam_template import load_template
from devtools.server import Scheduler, create_server, logger


def serve(
    template_path: Path | str,
    host: str,
    port: int,
    schedule_seconds: float,
    stop_event: threading.Event | None = None,
) -> None:
    """Serve until Ctrl-C, SIGTERM or ``stop_event`` is set.

    ``schedule_seconds <= 0`` disables scheduled invocations.
    """
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    stop = stop_event or threading.Event()
    app = load_template(template_path)
    server = create_server(app, host, port)
    scheduler = Scheduler(app, schedule_seconds)
    for function in app.functions:
        for route in function.api_events:
            logger.info("%-7s %s -> %s", route.method, route.path, function.logical_id)
    bound_host, bound_port = server.server_address[:2]
    logger.info("Serving on http://%s:%s", bound_host, bound_port)

    server_thread = threading.Thread(target=server.serve_forever, name="api-server", daemon=True)
    server_thread.start()
    if schedule_seconds > 0 and scheduler.functions:
        scheduler.start()
    restore_sigterm = _stop_on_sigterm(stop)
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        logger.info("Interrupted")
    finally:
        restore_sigterm()
        scheduler.stop()
        server.shutdown()
        server.server_close()
        logger.info("Stopped")


@contextmanager
def running_api(template_path: Path | str, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """The runner serving ``template_path`` in the background (no scheduler); yields its base URL.

    Tests, benchmarks and the fuzzer start the API through this one door, whatever the runner does inside.
    """
    server = create_server(load_template(template_path), host, port, request_log=lambda line: None)
    thread = threading.Thread(target=server.serve_forever, name="api-server", daemon=True)
    thread.start()
    bound_host, bound_port = server.server_address[:2]
    try:
        yield f"http://{bound_host}:{bound_port}"
    finally:
        server.shutdown()
        server.server_close()


def _stop_on_sigterm(stop: threading.Event) -> Callable[[], None]:
    # Only the main thread may install signal handlers; serve() may run in another.
    if threading.current_thread() is not threading.main_thread():
        return lambda: None

    def on_sigterm(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = signal.signal(signal.SIGTERM, on_sigterm)

    def restore() -> None:
        signal.signal(signal.SIGTERM, previous)

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
