"""Auth and users over real HTTP through the local runner, as a client integrates them."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.http


def test_a_customer_registers_reads_their_profile_and_rotates_tokens(http_api: Any) -> None:
    registered = http_api.post(
        "/api/auth/register", json={"email": "flow@example.com", "password": "flow-password", "name": "Flo"}
    )
    assert registered.status == 201
    session = registered.json()

    profile = http_api.get("/api/users/profile", token=session["accessToken"])
    assert profile.status == 200
    assert profile.json()["email"] == "flow@example.com"
    assert profile.header("X-Frame-Options") == "DENY"
    assert profile.header("Content-Type") == "application/json"

    refreshed = http_api.post("/api/auth/refresh-token", json={"refreshToken": session["refreshToken"]})
    assert refreshed.status == 200

    logged_out = http_api.post("/api/auth/logout", json={"refreshToken": refreshed.json()["refreshToken"]})
    assert logged_out.status == 204
    assert (
        http_api.post("/api/auth/refresh-token", json={"refreshToken": refreshed.json()["refreshToken"]}).status == 401
    )


def test_malformed_json_over_http_is_a_400(http_api: Any) -> None:
    response = http_api.post("/api/auth/login", body=b"{nope", headers={"Content-Type": "application/json"})

    assert response.status == 400
    assert response.error_code == "INVALID_JSON"


def test_the_health_check_over_http(http_api: Any) -> None:
    response = http_api.get("/api/health")

    assert response.status == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_a_request_over_api_gateways_10_mb_limit_never_reaches_the_function(http_api: Any, db: Any) -> None:
    response = http_api.post("/api/auth/register", body=b"x" * (10 * 1024 * 1024 + 1))

    assert response.status == 413
    assert db.value("SELECT count(*) FROM users") == 0


def test_a_preflight_for_an_unknown_path_is_refused_like_api_gateway(http_api: Any) -> None:
    response = http_api.request("OPTIONS", "/api/does-not-exist", headers={"Origin": "https://tickets.example.com"})

    assert (response.status, response.error_code) == (404, "NOT_FOUND")
