"""Serve a SAM app's handlers the way API Gateway (REST) and EventBridge would (see docs/local-runner.md).

Over HTTP (`create_server`) and on schedule (`Scheduler`), every function runs in its own execution
environments: worker processes from devtools.lambda_pool, each with exactly its function's environment.

`invoke` is the in-process path for tests and benchmarks that need the handler in this very process (moto's
mocks, forked concurrent clients): one thread per function, sharing this process's environment, into which
`apply_template_environment` copies the template's variables once (the developer's own values win).
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
    Headers,
    RouteMatch,
    build_proxy_event,
    gateway_response,
    lambda_error_response,
    resolve_route,
    translate_response,
    unrouted_response,
)
from devtools.lambda_context import LOCAL_ACCOUNT_ID, LOCAL_REGION, LambdaContext
from devtools.lambda_loader import load_handler
from devtools.lambda_pool import (
    FunctionCrashedError,
    InvalidLambdaResponseError,
    InvocationTimeoutError,
    LambdaRuntime,
    RuntimeClosedError,
    result_from_payload,
    template_names_in_environ,
)
from devtools.sam_template import ApiRoute, FunctionSpec, SamApp

REQUEST_BODY_LIMIT_BYTES = 10 * 1024 * 1024
API_GATEWAY_TIMEOUT_SECONDS = 29
# The listen backlog: an on-sale burst of simultaneous connections waits here instead of being reset.
LISTEN_BACKLOG = 4096

logger = logging.getLogger("devtools")

LogLine = Callable[[str], None]

__all__ = [
    "FunctionCrashedError",
    "InvalidLambdaResponseError",
    "InvocationTimeoutError",
    "Scheduler",
    "apply_template_environment",
    "create_server",
    "invoke",
    "scheduled_event",
]


def apply_template_environment(app: SamApp) -> None:
    for function in app.functions:
        for name, value in function.environment.items():
            if name not in os.environ:
                os.environ[name] = value
                template_names_in_environ.add(name)


_environments: dict[str, ThreadPoolExecutor] = {}
_environments_guard = threading.Lock()


def _forget_environments() -> None:
    """A forked child (concurrency tests, benchmarks) inherits the executors and the guard, not their threads."""
    global _environments_guard
    _environments.clear()
    _environments_guard = threading.Lock()


os.register_at_fork(after_in_child=_forget_environments)


def _execution_environment(spec: FunctionSpec) -> ThreadPoolExecutor:
    """One thread per function: it serves one request at a time (Powertools' resolver keeps per-request state
    in globals) and keeps what the handler caches between requests, such as its database connection."""
    with _environments_guard:
        if spec.logical_id not in _environments:
            _environments[spec.logical_id] = ThreadPoolExecutor(
                max_workers=1, thread_name_prefix=f"lambda-{spec.logical_id}"
            )
        return _environments[spec.logical_id]


def invoke(spec: FunctionSpec, event: dict[str, Any], timeout_seconds: float) -> Any:
    """Run the handler in this process, in its function's thread; return its result as Lambda serialises it.

    The timeout counts from arrival, queueing included. A timed-out handler cannot be killed here: it runs
    on, and the function's next requests wait for it (the HTTP runner's worker processes have no such limit).
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
    return result_from_payload(spec.logical_id, payload)


class _ApiServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = LISTEN_BACKLOG

    def __init__(
        self, app: SamApp, runtime: LambdaRuntime, address: tuple[str, int], request_log: LogLine, owns_runtime: bool
    ) -> None:
        self.app = app
        self.runtime = runtime
        self.request_log = request_log
        self.owns_runtime = owns_runtime
        self.functions_by_route: dict[ApiRoute, FunctionSpec] = {
            route: function for function in app.functions for route in function.api_events
        }
        super().__init__(address, _ApiRequestHandler)

    def server_close(self) -> None:
        super().server_close()
        if self.owns_runtime:
            self.runtime.close()


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
        if self.command != "HEAD":
            self.wfile.write(body)
        elapsed_ms = (time.monotonic() - started) * 1000
        self.server.request_log(f"{self.command} {url.path} {status} {elapsed_ms:.0f}ms")

    def __getattr__(self, name: str) -> Any:
        # BaseHTTPRequestHandler dispatches to do_<METHOD>: every method (TRACE and unknown ones too) is
        # routed here, so one that a path lacks answers 405 like any other, never the library's 501.
        if name.startswith("do_"):
            return self._handle
        raise AttributeError(name)

    def _gateway(self, response_type: str, **options: Any) -> tuple[int, Headers, bytes]:
        return gateway_response(
            self.server.app.gateway_responses, response_type, request_id=str(uuid.uuid4()), **options
        )

    def _respond(self, path: str, query: str) -> tuple[int, Headers, bytes]:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            self.close_connection = True
            return self._gateway("BAD_REQUEST_BODY", status=400, message="Bad Request")
        if length > REQUEST_BODY_LIMIT_BYTES:
            self._discard_body(length)
            return self._gateway("REQUEST_TOO_LARGE")
        body = self.rfile.read(length)

        if self.command == "OPTIONS" and self.server.app.cors_preflight_headers and self._path_exists(path):
            return 200, list(self.server.app.cors_preflight_headers.items()), b""
        resolved = resolve_route(self.server.functions_by_route, self.command, path)
        if not isinstance(resolved, RouteMatch):
            cors = bool(self.server.app.cors_preflight_headers)
            return unrouted_response(self.server.app.gateway_responses, self.command, resolved, cors=cors)
        function = self.server.functions_by_route[resolved.route]
        binary_media_types = self.server.app.binary_media_types
        event = build_proxy_event(
            self.command,
            path,
            query,
            list(self.headers.items()),
            body,
            resolved.route,
            resolved.path_parameters,
            binary_media_types,
            self.client_address[0],
        )
        request_id = event["requestContext"]["requestId"]
        try:
            result = self.server.runtime.invoke(
                function, event, function.timeout, gateway_seconds=API_GATEWAY_TIMEOUT_SECONDS
            )
        except InvocationTimeoutError as timeout:
            logger.error("%s", timeout)
            return self._gateway("INTEGRATION_TIMEOUT")
        except (FunctionCrashedError, RuntimeClosedError) as failure:
            logger.error("%s", failure)
            return lambda_error_response(self.server.app.gateway_responses, request_id)
        translated = translate_response(result, self.headers.get("Accept"), binary_media_types)
        if translated is None:
            logger.error("%s answered a result API Gateway cannot read: %.200r", function.logical_id, result)
            return lambda_error_response(self.server.app.gateway_responses, request_id)
        return translated

    def _path_exists(self, path: str) -> bool:
        return resolve_route(self.server.functions_by_route, "OPTIONS", path) is not None

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


def create_server(
    app: SamApp,
    host: str,
    port: int,
    *,
    request_log: LogLine | None = None,
    runtime: LambdaRuntime | None = None,
) -> ThreadingHTTPServer:
    """Bind (port 0 picks a free port) without serving; call serve_forever() to run.

    Without a `runtime`, the server makes its own and stops its workers in server_close().
    """
    own_runtime = runtime is None
    return _ApiServer(app, runtime or LambdaRuntime.for_app(app), (host, port), request_log or logger.info, own_runtime)


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
    """Invokes every function that has schedule events every ``interval_seconds``, in its worker processes.

    The template's schedule expressions are deliberately ignored: locally one short,
    uniform interval is more useful than waiting for real rates or cron times.
    """

    def __init__(
        self,
        app: SamApp,
        interval_seconds: float,
        *,
        result_log: LogLine | None = None,
        runtime: LambdaRuntime | None = None,
    ) -> None:
        self.functions = [function for function in app.functions if function.schedule_events]
        self.interval_seconds = interval_seconds
        self.result_log = result_log or logger.info
        self._own_runtime = runtime is None
        self.runtime = runtime or LambdaRuntime(self.functions)
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="scheduler", daemon=True)

    def start(self) -> None:
        self._thread.start()

    @property
    def running(self) -> bool:
        """Whether the firing loop is still alive: after `stop()` returns, it never is."""
        return self._thread.is_alive()

    def stop(self) -> None:
        self._stopped.set()
        if self._thread.is_alive():
            self._thread.join()
        if self._own_runtime:
            self.runtime.close()

    def fire_all(self) -> None:
        for function in self.functions:
            try:
                result = self.runtime.invoke(function, scheduled_event(function), function.timeout)
            except Exception:
                logger.exception("scheduled %s failed", function.logical_id)
            else:
                self.result_log(f"scheduled {function.logical_id} returned {result!r}")

    def _run(self) -> None:
        while not self._stopped.wait(self.interval_seconds):
            self.fire_all()
