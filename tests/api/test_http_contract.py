"""Conventions that hold for every endpoint (docs/api.md, docs/errors.md): error shapes, limits, headers, tokens."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import jwt
import pytest

from tests.access_tokens import access_claims, signed
from ticketing.signing_keys import generate_private_key_pem, parse_key_ring

REGISTER = "/api/auth/register"
PROFILE = "/api/users/profile"


def test_malformed_json_is_a_400_and_writes_nothing(api: Any, db: Any) -> None:
    response = api.post(
        REGISTER, body=b'{"email": "a@example.com", "password": ', headers={"Content-Type": "application/json"}
    )

    assert response.status == 400
    assert response.json() == {
        "error": {"code": "INVALID_JSON", "message": "The request body is not valid JSON.", "details": {}}
    }
    assert db.value("SELECT count(*) FROM users") == 0


def test_a_body_over_one_mebibyte_is_a_413(api: Any, db: Any) -> None:
    huge = json.dumps({"email": "a@example.com", "password": "x" * (1024 * 1024), "name": "A"}).encode()

    response = api.post(REGISTER, body=huge, headers={"Content-Type": "application/json"})

    assert response.status == 413
    assert response.error_code == "PAYLOAD_TOO_LARGE"
    assert db.value("SELECT count(*) FROM users") == 0


def test_wrong_types_are_422_with_the_field_named(api: Any, db: Any) -> None:
    response = api.post(REGISTER, json={"email": ["a@example.com"], "password": "long-enough", "name": "A"})

    assert response.status == 422
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"
    assert [field["field"] for field in response.json()["error"]["details"]["fields"]] == ["email"]


def test_a_json_array_instead_of_an_object_is_422(api: Any, db: Any) -> None:
    response = api.post(REGISTER, json=[1, 2, 3])

    assert (response.status, response.error_code) == (422, "VALIDATION_ERROR")
    assert db.value("SELECT count(*) FROM users") == 0


def test_a_missing_body_is_422(api: Any, db: Any) -> None:
    response = api.post(REGISTER)

    assert response.status == 422
    assert response.error_code == "VALIDATION_ERROR"


@pytest.mark.parametrize("status_path", [("ok", "/api/health"), ("error", PROFILE)])
def test_every_response_carries_the_security_headers(api: Any, db: Any, status_path: tuple[str, str]) -> None:
    response = api.get(status_path[1])

    assert response.header(
        "Strict-Transport-Security",
    ).startswith("max-age=")
    assert response.header("X-Content-Type-Options") == "nosniff"
    assert response.header("X-Frame-Options") == "DENY"
    assert response.header("Referrer-Policy") == "no-referrer"
    assert response.header("Content-Security-Policy").startswith("default-src 'none'")
    assert response.header("Cache-Control") == "no-store"


def test_an_allowed_origin_gets_cors_headers(api: Any, db: Any) -> None:
    response = api.get("/api/health", headers={"Origin": "https://admin.example.com"})

    assert response.header("Access-Control-Allow-Origin") == "https://admin.example.com"
    assert "ETag" in (response.header("Access-Control-Expose-Headers") or "")


def test_another_origin_gets_no_cors_headers(api: Any, db: Any) -> None:
    response = api.get("/api/health", headers={"Origin": "https://evil.example.net"})

    assert response.header("Access-Control-Allow-Origin") is None


def test_an_expired_access_token_is_token_expired(api: Any, accounts: Any) -> None:
    account = accounts.create()
    expired = signed(access_claims(account.id, iat=int(time.time()) - 3600, exp=int(time.time()) - 60))

    response = api.get(PROFILE, token=expired)

    assert response.status == 401
    assert response.error_code == "TOKEN_EXPIRED"


def test_a_token_signed_with_another_key_is_unauthorized(api: Any, accounts: Any) -> None:
    account = accounts.create()
    forged = signed(access_claims(account.id, role="ADMIN"), parse_key_ring(generate_private_key_pem()))

    response = api.get(PROFILE, token=forged)

    assert response.status == 401
    assert response.error_code == "UNAUTHORIZED"


def test_a_token_with_alg_none_is_unauthorized(api: Any, accounts: Any) -> None:
    account = accounts.create()
    unsigned = jwt.encode(access_claims(account.id), key=None, algorithm="none")  # type: ignore[arg-type]

    response = api.get(PROFILE, token=unsigned)

    assert (response.status, response.error_code) == (401, "UNAUTHORIZED")
    assert "email" not in response.json()


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", PROFILE, None),  # reads the user
        ("post", "/api/bookings/hold-seats", "seat"),  # writes the caller's id as the holder, reads no user
        ("post", "/api/bookings/hold-best", "quantity"),
    ],
)
def test_a_token_of_a_deleted_user_is_unauthorized(
    api: Any, accounts: Any, catalog: Any, db: Any, method: str, path: str, body: str | None
) -> None:
    event = catalog.event()
    account = accounts.create()
    assert db.execute("DELETE FROM users WHERE id = :id", id=account.id) == 1
    json_body = {
        "seat": {"eventId": event.id, "seatIds": event.seat_ids[:1]},
        "quantity": {"eventId": event.id, "quantity": 1},
    }

    response = getattr(api, method)(path, token=account.token, **({"json": json_body[body]} if body else {}))

    assert (response.status, response.error_code) == (401, "UNAUTHORIZED")
    assert db.value("SELECT count(*) FROM event_seats WHERE status = 'HELD'") == 0


@pytest.mark.parametrize("header", ["Basic dXNlcjpwYXNz", "Bearer", "Bearer not.a.jwt", "token-without-scheme"])
def test_malformed_authorization_headers_are_unauthorized(api: Any, db: Any, header: str) -> None:
    response = api.get(PROFILE, headers={"Authorization": header})

    assert response.status == 401
    assert response.error_code == "UNAUTHORIZED"


def test_an_unexpected_error_is_a_500_with_a_request_id_and_no_trace(
    api: Any, accounts: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    account = accounts.create()
    import ticketing.users.service as users_service

    def broken(*_: Any) -> None:
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(users_service, "get_profile", broken)

    response = api.get(PROFILE, token=account.token)

    assert response.status == 500
    error = response.json()["error"]
    assert error["code"] == "INTERNAL"
    assert uuid.UUID(error["details"]["requestId"])
    assert b"secret internal detail" not in response.body
    assert b"Traceback" not in response.body


def test_an_unknown_route_is_answered_like_api_gateway(api: Any, db: Any) -> None:
    response = api.get("/api/nothing-here")

    assert (response.status, response.error_code) == (404, "NOT_FOUND")


def test_a_form_encoded_body_is_415_and_writes_nothing(api: Any, db: Any) -> None:
    response = api.post(
        REGISTER,
        body=b"email=a%40example.com&password=long-enough&name=A",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )

    assert response.status == 415
    assert response.error_code == "UNSUPPORTED_MEDIA_TYPE"
    assert db.value("SELECT count(*) FROM users") == 0


def test_json_without_a_content_type_is_accepted(api: Any, db: Any) -> None:
    response = api.post(
        REGISTER, body=b'{"email": "plain@example.com", "password": "long-enough", "name": "A"}', headers={}
    )

    assert response.status == 201
    assert db.value("SELECT name FROM users WHERE email = 'plain@example.com'") == "A"


def test_an_anonymous_caller_with_a_bad_body_is_401_not_422(api: Any, db: Any) -> None:
    response = api.put("/api/users/profile", json={"name": 42, "unknown": True})

    assert response.status == 401
    assert response.error_code == "UNAUTHORIZED"


def test_a_caller_with_the_wrong_role_and_a_bad_body_is_403_not_422(api: Any, accounts: Any) -> None:
    customer = accounts.create()

    response = api.post("/api/venues", json={"name": 42}, token=customer.token)

    assert response.status == 403
    assert response.error_code == "FORBIDDEN"


def test_a_signed_in_caller_with_a_bad_body_still_gets_422(api: Any, accounts: Any, db: Any) -> None:
    customer = accounts.create()
    name_before = db.value("SELECT name FROM users WHERE id = :id", id=customer.id)

    response = api.put("/api/users/profile", json={"name": 42}, token=customer.token)

    assert (response.status, response.error_code) == (422, "VALIDATION_ERROR")
    assert [f["field"] for f in response.json()["error"]["details"]["fields"]] == ["name"]
    assert db.value("SELECT name FROM users WHERE id = :id", id=customer.id) == name_before
