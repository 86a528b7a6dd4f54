"""The shared resolver answers a method its paths lack with 405 and `Allow` (docs/errors.md), not 404."""

from __future__ import annotations

import json
from typing import Any

import pytest

from devtools.apigw import build_proxy_event
from devtools.lambda_context import LambdaContext
from devtools.sam_template import ApiRoute
from ticketing.http.resolver import TicketingResolver, create_resolver


@pytest.fixture
def app(fresh_settings: pytest.MonkeyPatch) -> TicketingResolver:
    # No route here touches the database; the settings only need to be complete.
    fresh_settings.setenv("DATABASE_URL", "postgresql://unused@127.0.0.1:1/unused")
    resolver = create_resolver()

    @resolver.get("/things")
    def list_things() -> dict[str, Any]:
        return {"items": []}

    @resolver.route("/things", ["POST", "PUT"])
    def write_things() -> dict[str, Any]:
        return {}

    @resolver.get("/things/<thing_id>")
    def get_thing(thing_id: str) -> dict[str, Any]:
        return {"id": thing_id}

    return resolver


def call(app: TicketingResolver, method: str, path: str) -> dict[str, Any]:
    event = build_proxy_event(
        method, path, "", [("Host", "localhost")], b"", ApiRoute("ANY", path), {}, [], "127.0.0.1"
    )
    return app.resolve(event, LambdaContext("TestFunction", 128, 3))


def header(result: dict[str, Any], name: str) -> str | None:
    values = (result.get("multiValueHeaders") or {}).get(name) or []
    return ", ".join(values) if values else (result.get("headers") or {}).get(name)


def test_a_method_the_path_lacks_is_405_listing_the_methods_it_has(app: TicketingResolver) -> None:
    result = call(app, "DELETE", "/things")

    assert result["statusCode"] == 405
    assert header(result, "Allow") == "GET, POST, PUT, OPTIONS"
    assert json.loads(result["body"]) == {
        "error": {
            "code": "METHOD_NOT_ALLOWED",
            "message": "DELETE is not allowed here; allowed: GET, POST, PUT, OPTIONS",
            "details": {},
        }
    }


def test_a_parameter_matches_one_segment_and_a_trailing_slash(app: TicketingResolver) -> None:
    result = call(app, "PATCH", "/things/42/")

    assert (result["statusCode"], header(result, "Allow")) == (405, "GET, OPTIONS")


def test_the_405_carries_the_security_headers(app: TicketingResolver) -> None:
    result = call(app, "HEAD", "/things/42")

    assert result["statusCode"] == 405
    assert header(result, "X-Content-Type-Options") == "nosniff"


def test_an_unknown_path_is_still_404(app: TicketingResolver) -> None:
    result = call(app, "DELETE", "/things/42/parts")

    assert result["statusCode"] == 404
    assert json.loads(result["body"])["error"]["code"] == "NOT_FOUND"
    assert header(result, "Allow") is None


def test_a_served_method_is_not_affected(app: TicketingResolver) -> None:
    result = call(app, "GET", "/things/42")

    assert (result["statusCode"], json.loads(result["body"])) == (200, {"id": "42"})
