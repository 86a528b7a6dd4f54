"""Invoke a SAM app's handlers the way API Gateway (REST) and EventBridge would.

Environment: each function's template ``Environment.Variables`` are copied into
``os.environ`` once, when the server or scheduler is created, and only for names not
already set, so a developer's own environment overrides the template. All functions
share one process, so a name given different values by two functions keeps the first
function's value.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeoutError
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from devtools.apigw import (
    INTERNAL_SERVER_ERROR,
    Headers,
    build_proxy_event,
    error_response,
    match_route,
    translate_response,
)
from devtools.lambda_context import LOCAL_ACCOUNT_ID, LOCAL_REGION, LambdaContext
from devtools.lambda_loader import load_handler
from devtools.sam_template import ApiRoute, FunctionSpec, SamApp

REQUEST_BODY_LIMIT_BYTES = 10 * 1024 * 1024
RESPONSE_PAYLOAD_LIMIT_BYTES = 6 * 1024 * 1024
API_GATEWAY_TIMEOUT_SECONDS = 29

logger = logging.getLogger("devtools")

LogLine = Callable[[str], None]


class InvocationTimeoutError(Exception):
    pass


class InvalidLambdaResponseError(Exception):
    """The result could not leave a real Lambda (too large or not JSON serialisable)."""


def apply_template_environment(app: SamApp) -> None:
    for function in app.functions:
        for name, value in function.environment.items():
            os.environ.setdefault(name, value)


_environments: dict[str, ThreadPoolExecutor] = {}
_environments_guard = threading.Lock()


def _forget_environments() -> None:
    """A forked child (concurrency tests, benchmarks) inherits the executors and the guard, not their threads."""
    global _environments_guard
    _environments.clear()
    _environments_guard = threading.Lock()


os.register_at_fork(after_in_child=_forget_environments)


def _execution_environment(spec: FunctionSpec) -> ThreadPoolExecutor:
    """One worker thread per function, like one warm Lambda execution environment.

    It serves one request at a time (handlers may keep per-invocation state in globals, as Powertools'
    resolver does) and keeps what the handler caches between requests, such as its database connection.
    Different functions still run in parallel.
    """
    with _environments_guard:
        if spec.logical_id not in _environments:
            _environments[spec.logical_id] = ThreadPoolExecutor(
                max_workers=1, thread_name_prefix=f"lambda-{spec.logical_id}"
            )
        return _environments[spec.logical_id]


def invoke(spec: FunctionSpec, event: dict[str, Any], timeout_seconds: float) -> Any:
    """Run the handler in its function's environment; return its result as Lambda serialises it.

    The timeout counts from arrival, queueing included. A timed-out handler cannot be killed: unlike in
    Lambda, it runs on, and the function's next requests wait for it.
    """

    def run() -> Any:
        context = LambdaContext(spec.logical_id, spec.memory_size, spec.timeout)
        return load_handler(spec)(event, context)

    future = _execution_environment(spec).submit(run)
    try:
        result = future.result(timeout=timeout_seconds)
    except FutureTimeoutError:
        future.cancel()
        raise InvocationTimeoutError(f"{spec.logical_id} timed out after {timeout_seconds} s") from None
    try:
        payload = json.dumps(result)
    except (TypeError, ValueError) as error:
        raise InvalidLambdaResponseError(f"{spec.logical_id} returned a non-JSON value: {error}") from error
    size = len(payload.encode("utf-8"))
    if size > RESPONSE_PAYLOAD_LIMIT_BYTES:
        raise InvalidLambdaResponseError(
            f"{spec.logical_id} response is {size} bytes, exceeding Lambda's 6 MB "
            f"({RESPONSE_PAYLOAD_LIMIT_BYTES} bytes) response payload limit"
        )
    return json.loads(payload)


class _ApiServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, app: SamApp, address: tuple[str, int], request_log: LogLine) -> None:
        self.app = app
        self.request_log = request_log
        self.functions_by_route: dict[ApiRoute, FunctionSpec] = {
            route: function for function in app.functions for route in function.api_events
        }
        super().__init__(address, _ApiRequestHandler)


class _ApiRequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _ApiServer

    def _handle(self) -> None:
        started = time.monotonic()
        url = urlsplit(self.path)
        status, headers, body = self._respond(url.path, url.query)
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        elapsed_ms = (time.monotonic() - started) * 1000
        self.server.request_log(f"{self.command} {url.path} {status} {elapsed_ms:.0f}ms")

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = _handle  # noqa: N815 - dispatch names

    def _respond(self, path: str, query: str) -> tuple[int, Headers, bytes]:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            self.close_connection = True
            return error_response(400, "Bad Request")
        if length > REQUEST_BODY_LIMIT_BYTES:
            self._discard_body(length)
            return error_response(413, "Request Too Long")
        body = self.rfile.read(length)

        if self.command == "OPTIONS" and self.server.app.cors_preflight_headers and self._path_exists(path):
            return 200, list(self.server.app.cors_preflight_headers.items()), b""
        match = match_route(self.server.functions_by_route, self.command, path)
        if match is None:
            return error_response(403, "Missing Authentication Token")
        function = self.server.functions_by_route[match.route]
        binary_media_types = self.server.app.binary_media_types
        event = build_proxy_event(
            self.command,
            path,
            query,
            list(self.headers.items()),
            body,
            match.route,
            match.path_parameters,
            binary_media_types,
            self.client_address[0],
        )
        try:
            result = invoke(function, event, min(function.timeout, API_GATEWAY_TIMEOUT_SECONDS))
        except InvocationTimeoutError as timeout:
            logger.error("%s", timeout)
            return error_response(504, "Endpoint request timed out")
        except InvalidLambdaResponseError as invalid:
            logger.error("%s", invalid)
            return INTERNAL_SERVER_ERROR
        except Exception:
            logger.exception("%s raised", function.logical_id)
            return INTERNAL_SERVER_ERROR
        return translate_response(result, self.headers.get("Accept"), binary_media_types)

    def _path_exists(self, path: str) -> bool:
        methods = {route.method for route in self.server.functions_by_route}
        return any(match_route(self.server.functions_by_route, method, path) for method in methods)

    def _discard_body(self, length: int) -> None:
        # Reading the body (rather than closing on the client) lets it receive the 413.
        while length > 0:
            chunk = self.rfile.read(min(length, 1024 * 1024))
            if not chunk:
                break
            length -= len(chunk)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Silenced: _handle writes one line per request to request_log instead."""

    def log_message(self, format: str, *args: Any) -> None:
        logger.warning(format, *args)


def create_server(app: SamApp, host: str, port: int, *, request_log: LogLine | None = None) -> ThreadingHTTPServer:
    """Bind (port 0 picks a free port) without serving; call serve_forever() to run."""
    apply_template_environment(app)
    return _ApiServer(app, (host, port), request_log or logger.info)


def scheduled_event(function: FunctionSpec) -> dict[str, Any]:
    rule_name = f"{function.logical_id}Schedule"
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": LOCAL_ACCOUNT_ID,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": LOCAL_REGION,
        "resources": [f"arn:aws:events:{LOCAL_REGION}:{LOCAL_ACCOUNT_ID}:rule/{rule_name}"],
        "detail": {},
    }


class Scheduler:
    """Invokes every function that has schedule events every ``interval_seconds``.

    The template's schedule expressions are deliberately ignored: locally one short,
    uniform interval is more useful than waiting for real rates or cron times.
    """

    def __init__(self, app: SamApp, interval_seconds: float, *, result_log: LogLine | None = None) -> None:
        apply_template_environment(app)
        self.functions = [function for function in app.functions if function.schedule_events]
        self.interval_seconds = interval_seconds
        self.result_log = result_log or logger.info
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="scheduler", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        if self._thread.is_alive():
            self._thread.join()

    def fire_all(self) -> None:
        for function in self.functions:
            try:
                result = invoke(function, scheduled_event(function), function.timeout)
            except Exception:
                logger.exception("scheduled %s failed", function.logical_id)
            else:
                self.result_log(f"scheduled {function.logical_id} returned {result!r}")

    def _run(self) -> None:
        while not self._stopped.wait(self.interval_seconds):
            self.fire_all()
