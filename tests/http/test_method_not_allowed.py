"""A method a path lacks: the function's 405 (deployed, through the path's ANY event) equals the runner's own.

Behind API Gateway the ANY event of a path brings every method the path lacks to the function, whose resolver
answers 405 with `Allow`. The runner answers that 405 itself for a template without ANY events. Both are
compared here over HTTP, so the local answer and the deployed one cannot drift apart (docs/errors.md).
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devtools.api_client import HttpApi
from devtools.sam_template import load_template
from devtools.server import create_server
from ticketing.http.responses import SECURITY_HEADERS

pytestmark = pytest.mark.http
TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"
MISMATCHES = [
    ("DELETE", "/api/venues"),
    ("PATCH", "/api/bookings/3f0e6c1e-4bd1-4c53-9f0e-2b8f0c4b7a10"),
    ("TRACE", "/api/health"),
    ("HEAD", "/api/users/change-password"),
    ("PATCH", "/api/bookings/create"),
]


@pytest.fixture(scope="module")
def runner_without_any_events(database_url: str) -> Iterator[HttpApi]:
    """The runner on template.yaml less its ANY events: it answers a method mismatch itself. Deployed, OPTIONS goes
    to the functions (their resolvers answer preflights); without ANY events the gateway answers it instead."""
    app = load_template(TEMPLATE)
    functions = [
        dataclasses.replace(function, api_events=[route for route in function.api_events if route.method != "ANY"])
        for function in app.functions
    ]
    gateway_preflight = {"Access-Control-Allow-Origin": "https://tickets.example.com"}
    generic = dataclasses.replace(app, functions=functions, cors_preflight_headers=gateway_preflight)
    server = create_server(generic, "127.0.0.1", 0, request_log=lambda line: None)
    thread = threading.Thread(target=server.serve_forever, name="api-server-without-any", daemon=True)
    thread.start()
    try:
        host, port = server.server_address[:2]
        yield HttpApi(f"http://{host!s}:{port}")
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _as_compared(response: Any) -> tuple[int, str | None, str | None, str | None]:
    message = response.json()["error"]["message"] if response.body else None
    return response.status, response.error_code, message, response.header("Allow")


@pytest.mark.parametrize(("method", "path"), MISMATCHES)
def test_the_functions_405_equals_the_runners_own(
    http_api: Any, runner_without_any_events: HttpApi, db: Any, method: str, path: str
) -> None:
    deployed = http_api.request(method, path)

    generic = runner_without_any_events.request(method, path)

    assert deployed.status == 405
    assert _as_compared(deployed) == _as_compared(generic)


def test_a_405_from_the_function_has_the_envelope_and_the_security_headers(http_api: Any, db: Any) -> None:
    response = http_api.request("DELETE", "/api/venues")

    assert response.json() == {
        "error": {
            "code": "METHOD_NOT_ALLOWED",
            "message": "DELETE is not allowed here; allowed: GET, POST, OPTIONS",
            "details": {},
        }
    }
    assert response.header("Allow") == "GET, POST, OPTIONS"
    assert {name: response.header(name) for name in SECURITY_HEADERS} == SECURITY_HEADERS


def test_a_405_runs_no_auth_check(http_api: Any, db: Any) -> None:
    response = http_api.request("DELETE", "/api/users/profile", headers={"Authorization": "Bearer not-a-token"})

    assert (response.status, response.error_code) == (405, "METHOD_NOT_ALLOWED")
    assert response.header("Allow") == "GET, PUT, OPTIONS"


def test_an_explicit_method_still_beats_the_any_event(http_api: Any, db: Any) -> None:
    response = http_api.get("/api/health")

    assert response.status == 200
    assert response.json() == {"status": "ok", "database": "ok"}
    assert response.header("Allow") is None
