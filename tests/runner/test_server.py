"""The local API Gateway emulator, exercised over real HTTP on 127.0.0.1."""

import base64
import gzip
import http.client
import json
import logging
import os
import queue
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from devtools.sam_template import load_template
from devtools.server import Scheduler, create_server, scheduled_event

TEMPLATE = Path(__file__).parent / "fixtures" / "template.yaml"
REQUEST_LOG_LINE = re.compile(r"^(?P<method>[A-Z]+) (?P<path>\S+) (?P<status>\d{3}) \d+ms$")


@dataclass(frozen=True)
class Response:
    status: int
    content_type: str | None
    content_length: str | None
    body: bytes
    headers: dict[str, str]

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass(frozen=True)
class RunningApi:
    host: str
    port: int
    request_log: "queue.Queue[str]"

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            return Response(
                response.status,
                response.getheader("Content-Type"),
                response.getheader("Content-Length"),
                response.read(),
                dict(response.getheaders()),
            )
        finally:
            connection.close()


@pytest.fixture
def developer_environment() -> Iterator[None]:
    """A developer who exported FIXTURE_OVERRIDDEN; os.environ is restored afterwards."""
    saved = os.environ.copy()
    os.environ["FIXTURE_OVERRIDDEN"] = "developer value"
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@pytest.fixture
def api(developer_environment: None) -> Iterator[RunningApi]:
    request_log: queue.Queue[str] = queue.Queue()
    server = create_server(load_template(TEMPLATE), "127.0.0.1", 0, request_log=request_log.put)
    host, port = server.server_address[:2]
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield RunningApi(str(host), int(port), request_log)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_given_param_route_when_called_then_handler_gets_a_v1_proxy_event(
    api: RunningApi,
) -> None:
    response = api.request("GET", "/items/42?tag=a&tag=b", headers={"X-Trace": "t1"})

    assert (response.status, response.content_type) == (200, "application/json")
    event = response.json()["event"]
    assert {key: event[key] for key in ("resource", "path", "httpMethod")} == {
        "resource": "/items/{id}",
        "path": "/items/42",
        "httpMethod": "GET",
    }
    assert event["pathParameters"] == {"id": "42"}
    assert event["queryStringParameters"] == {"tag": "b"}
    assert event["multiValueQueryStringParameters"] == {"tag": ["a", "b"]}
    assert event["headers"]["X-Trace"] == "t1"
    assert event["multiValueHeaders"]["X-Trace"] == ["t1"]
    assert (event["body"], event["isBase64Encoded"]) == (None, False)
    assert event["requestContext"]["path"] == "/local/items/42"
    assert event["requestContext"]["identity"]["sourceIp"] == "127.0.0.1"


def test_given_function_when_invoked_then_it_gets_a_lambda_context(
    api: RunningApi,
) -> None:
    response = api.request("GET", "/items/42")

    assert response.json()["context"] == {
        "function_name": "EchoFunction",
        "function_version": "$LATEST",
        "invoked_function_arn": ("arn:aws:lambda:us-east-1:000000000000:function:EchoFunction"),
        "memory_limit_in_mb": 512,
        "has_time_left": True,
    }


def test_given_literal_and_param_routes_when_literal_requested_then_literal_wins(
    api: RunningApi,
) -> None:
    response = api.request("GET", "/items/mine")

    event = response.json()["event"]
    assert (event["resource"], event["pathParameters"]) == ("/items/mine", None)


def test_given_greedy_route_when_nested_path_requested_then_its_own_app_module_runs(
    api: RunningApi,
) -> None:
    response = api.request("DELETE", "/files/reports/2024/summary.csv")

    assert (response.status, response.content_type, response.json()) == (
        200,
        "application/json",
        {"function": "proxy", "proxy": "reports/2024/summary.csv"},
    )


def test_given_json_body_when_posted_then_handler_gets_it_as_text(
    api: RunningApi,
) -> None:
    response = api.request("POST", "/items", body=b'{"name": "Ada"}', headers={"Content-Type": "application/json"})

    event = response.json()["event"]
    assert (event["body"], event["isBase64Encoded"]) == ('{"name": "Ada"}', False)


def test_given_binary_media_type_when_posted_then_handler_gets_base64(
    api: RunningApi,
) -> None:
    response = api.request("POST", "/uploads", body=b"\x89PNG\x00", headers={"Content-Type": "image/png"})

    event = response.json()["event"]
    assert (event["body"], event["isBase64Encoded"]) == (
        base64.b64encode(b"\x89PNG\x00").decode(),
        True,
    )


def test_given_unknown_path_when_requested_then_the_templates_gateway_response_answers(
    api: RunningApi,
) -> None:
    response = api.request("GET", "/nowhere")

    assert (response.status, response.content_type, response.json()) == (
        404,
        "application/json",
        {"error": {"code": "NOT_FOUND", "message": "No such path.", "details": {}}},
    )


@pytest.mark.parametrize("method", ["PUT", "TRACE", "BREW"])
def test_given_known_path_when_method_not_declared_then_405_with_allow(api: RunningApi, method: str) -> None:
    response = api.request(method, "/items/42", body=b"{}")

    assert (response.status, response.headers["Allow"]) == (405, "GET")
    assert response.headers["X-Fixture-Gateway"] == "4xx"
    assert response.json()["error"]["code"] == "METHOD_NOT_ALLOWED"


def test_given_body_over_10_mb_when_posted_then_413_without_invoking(
    api: RunningApi,
) -> None:
    response = api.request("POST", "/items", body=b"x" * (10 * 1024 * 1024 + 1))

    assert (response.status, response.content_type, response.json()) == (
        413,
        "application/json",
        {"error": {"code": "REQUEST_TOO_LARGE", "message": "Request Too Long", "details": {}}},
    )


def assert_lambda_error(response: Response) -> None:
    """What API Gateway answers for a Lambda that failed: 502 through the template's DEFAULT_5XX."""
    body = response.json()
    assert (response.status, response.content_type) == (502, "application/json")
    assert (body["error"]["code"], body["error"]["message"]) == ("INTERNAL", "Internal server error")
    assert body["error"]["details"]["requestId"]


def test_given_handler_raises_when_called_then_502_and_traceback_logged(
    api: RunningApi, caplog: pytest.LogCaptureFixture
) -> None:
    response = api.request("GET", "/boom")

    assert_lambda_error(response)
    assert "RuntimeError: fixture handler failed" in caplog.text
    assert "Traceback" in caplog.text


def test_given_handler_slower_than_timeout_when_called_then_504_after_timeout(
    api: RunningApi,
) -> None:
    # The fixture never returns, so an answer at all proves the runner enforced the Timeout; no clock is read.
    response = api.request("GET", "/slow")

    assert (response.status, response.json()["error"]["message"]) == (504, "Endpoint request timed out")
    assert api.request_log.get(timeout=5).startswith("GET /slow 504 ")


def test_given_response_over_6_mb_when_called_then_502_and_limit_logged(
    api: RunningApi, caplog: pytest.LogCaptureFixture
) -> None:
    response = api.request("GET", "/huge")

    assert_lambda_error(response)
    assert "exceeding Lambda's 6 MB (6291456 bytes) response payload limit" in caplog.text


def test_given_malformed_lambda_result_when_called_then_502(api: RunningApi) -> None:
    response = api.request("GET", "/malformed")

    assert_lambda_error(response)


def test_given_base64_gzip_and_binary_media_type_when_called_then_raw_bytes_sent(
    api: RunningApi,
) -> None:
    response = api.request("GET", "/archive", headers={"Accept": "*/*"})

    assert (response.status, response.content_type) == (200, "application/gzip")
    assert response.content_length == str(len(response.body))
    assert gzip.decompress(response.body) == b"hello archive"


def test_given_template_and_developer_environment_then_developer_values_win(
    api: RunningApi,
) -> None:
    response = api.request("GET", "/environment")

    assert response.json() == {
        "FIXTURE_GREETING": "hello from the template",
        "FIXTURE_OVERRIDDEN": "developer value",
        "FIXTURE_STACK": None,
        # Each function's workers get its own variables only, as in Lambda.
        "FIXTURE_ECHO_ONLY": None,
    }


def test_given_requests_when_served_then_one_log_line_each(api: RunningApi) -> None:
    api.request("GET", "/items/7")
    api.request("GET", "/nowhere")

    lines = [api.request_log.get(timeout=5), api.request_log.get(timeout=5)]
    matches = [REQUEST_LOG_LINE.match(line) for line in lines]
    assert [(m["method"], m["path"], m["status"]) for m in matches if m] == [
        ("GET", "/items/7", "200"),
        ("GET", "/nowhere", "404"),
    ]
    assert api.request_log.empty()


def test_given_scheduled_function_when_scheduler_runs_then_eventbridge_event_delivered(
    developer_environment: None,
) -> None:
    results: queue.Queue[str] = queue.Queue()
    scheduler = Scheduler(load_template(TEMPLATE), 0.05, result_log=results.put)

    scheduler.start()
    try:
        line = results.get(timeout=5)
    finally:
        scheduler.stop()

    expected = {
        "source": "aws.events",
        "detail-type": "Scheduled Event",
        "resources": ["arn:aws:events:us-east-1:000000000000:rule/ReportFunctionSchedule"],
        "detail": {},
    }
    assert line == f"scheduled ReportFunction returned {expected!r}"


def test_given_stopped_scheduler_then_its_loop_has_ended_and_nothing_fires_later(
    developer_environment: None,
) -> None:
    results: queue.Queue[str] = queue.Queue()
    scheduler = Scheduler(load_template(TEMPLATE), 0.05, result_log=results.put)
    scheduler.start()
    assert results.get(timeout=5).startswith("scheduled ReportFunction returned ")

    scheduler.stop()

    # The loop is the only caller of fire_all; once it has ended no interval can fire again.
    assert not scheduler.running


def test_given_function_when_scheduled_event_built_then_eventbridge_shape() -> None:
    [report] = [f for f in load_template(TEMPLATE).functions if f.schedule_events]

    event = scheduled_event(report)

    assert {key: event[key] for key in ("version", "account", "region", "detail")} == {
        "version": "0",
        "account": "000000000000",
        "region": "us-east-1",
        "detail": {},
    }
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", event["time"])
    assert event["id"]


def test_given_handler_failure_when_logged_then_it_is_at_error_level(
    api: RunningApi, caplog: pytest.LogCaptureFixture
) -> None:
    api.request("GET", "/boom")

    assert [record.levelno for record in caplog.records if record.name == "devtools"] == [logging.ERROR]
