"""CORS (docs/security.md, "CORS"): the origins of CORS_ALLOW_ORIGINS (the template's CorsAllowOrigins) reach the
preflight and every answer, over real HTTP through the local runner. The suite configures two origins
(tests/conftest.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from devtools.sam_template import read_template

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"
CONFIGURED = "https://admin.example.com"  # the second of the two configured origins
STRANGER = "https://evil.example.net"


def _preflight(http_api: Any, origin: str) -> Any:
    return http_api.request(
        "OPTIONS",
        "/api/bookings/hold-seats",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type,idempotency-key",
        },
    )


def test_a_preflight_from_a_configured_origin_is_answered_for_that_origin(http_api: Any, db: Any) -> None:
    response = _preflight(http_api, CONFIGURED)

    assert response.status == 204, response.body
    assert response.header("Access-Control-Allow-Origin") == CONFIGURED
    allowed_headers = {
        name.strip().lower() for name in (response.header("Access-Control-Allow-Headers") or "").split(",")
    }
    assert {"authorization", "content-type", "idempotency-key", "x-admission-token"} <= allowed_headers
    assert "POST" in (response.header("Access-Control-Allow-Methods") or "")
    assert response.header("Access-Control-Max-Age") == "600"


def test_a_preflight_from_another_origin_gets_no_cors_grant(http_api: Any, db: Any) -> None:
    response = _preflight(http_api, STRANGER)

    assert response.header("Access-Control-Allow-Origin") is None


@pytest.mark.parametrize(("origin", "granted"), [(CONFIGURED, CONFIGURED), (STRANGER, None)])
def test_answers_carry_the_grant_for_configured_origins_only(
    http_api: Any, db: Any, origin: str, granted: str | None
) -> None:
    # An answer and an error answer (the body is refused before any handler runs)
    answer = http_api.get("/api/venues", headers={"Origin": origin})
    refused = http_api.post(
        "/api/auth/login", body=b"{not json", headers={"Origin": origin, "Content-Type": "application/json"}
    )

    assert (answer.status, refused.status) == (200, 400)
    assert answer.header("Access-Control-Allow-Origin") == granted
    assert refused.header("Access-Control-Allow-Origin") == granted


def test_the_template_leaves_preflights_to_the_functions_and_passes_them_the_origins() -> None:
    template = read_template(TEMPLATE)
    api = template["Resources"]["Api"]["Properties"]
    environment = template["Globals"]["Function"]["Environment"]["Variables"]

    # API Gateway's own (mock) preflight could answer one fixed origin only
    assert "Cors" not in api
    assert "Cors" not in (template["Globals"].get("Api") or {})
    assert environment["CORS_ALLOW_ORIGINS"] == {"Ref": "CorsAllowOrigins"}
    # and every route's path has an ANY event, which takes OPTIONS to its function
    for resource in template["Resources"].values():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        events = [
            event["Properties"]
            for event in (resource["Properties"].get("Events") or {}).values()
            if event["Type"] == "Api"
        ]
        paths = {event["Path"] for event in events}
        assert paths == {event["Path"] for event in events if event["Method"] == "ANY"}
