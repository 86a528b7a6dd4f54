"""Auth (docs/api.md): register, login, refresh-token rotation, logout."""

from __future__ import annotations

from typing import Any

import jwt

REGISTER = "/api/auth/register"
LOGIN = "/api/auth/login"
REFRESH = "/api/auth/refresh-token"
LOGOUT = "/api/auth/logout"


def _register(api: Any, email: str = "ann@example.com", password: str = "s3cret-pass", **extra: Any) -> Any:
    return api.post(REGISTER, json={"email": email, "password": password, "name": "Ann", **extra})


def test_register_creates_a_user_and_signs_in(api: Any, db: Any) -> None:
    response = _register(api, phone="+49 30 123456")

    assert response.status == 201
    body = response.json()
    assert set(body) == {"user", "accessToken", "refreshToken", "expiresIn"}
    assert body["expiresIn"] == 900
    assert body["user"]["email"] == "ann@example.com"
    assert body["user"]["role"] == "USER"
    assert body["user"]["phone"] == "+49 30 123456"
    assert body["user"]["createdAt"].endswith("Z")
    stored = db.rows("SELECT role, password_hash FROM users")
    assert len(stored) == 1
    assert stored[0]["role"] == "USER"
    assert stored[0]["password_hash"].startswith("$2b$")


def test_register_issues_an_access_token_that_lives_fifteen_minutes(api: Any) -> None:
    token = _register(api).json()["accessToken"]

    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 15 * 60
    assert claims["role"] == "USER"


def test_register_stores_refresh_tokens_only_as_hashes(api: Any, db: Any) -> None:
    refresh_token = _register(api).json()["refreshToken"]

    hashes = [bytes(row["token_hash"]) for row in db.rows("SELECT token_hash FROM refresh_tokens")]
    assert len(hashes) == 1
    assert refresh_token.encode() not in hashes[0]
    assert len(hashes[0]) == 32


def test_register_refuses_an_email_taken_in_another_case(api: Any, db: Any) -> None:
    _register(api, email="Ann@Example.com")

    response = _register(api, email="ann@EXAMPLE.com")

    assert response.status == 409
    assert response.error_code == "EMAIL_TAKEN"
    assert db.value("SELECT count(*) FROM users") == 1


def test_register_cannot_make_anyone_an_admin(api: Any, db: Any) -> None:
    response = _register(api, role="ADMIN")

    assert response.status == 422
    assert response.json()["error"]["details"]["fields"] == [{"field": "role", "message": "Unknown field."}]
    assert db.value("SELECT count(*) FROM users") == 0


def test_register_refuses_passwords_shorter_than_8_bytes(api: Any, db: Any) -> None:
    response = _register(api, password="short7!")

    assert response.status == 422
    assert response.json()["error"]["details"]["fields"][0]["field"] == "password"
    assert db.value("SELECT count(*) FROM users") == 0


def test_register_refuses_passwords_longer_than_72_bytes(api: Any, db: Any) -> None:
    # 36 two-byte characters are 72 bytes (allowed); one more is 74.
    assert _register(api, email="a@example.com", password="é" * 36).status == 201

    response = _register(api, email="b@example.com", password="é" * 37)

    assert response.status == 422
    assert response.error_code == "VALIDATION_ERROR"
    assert db.value("SELECT array_agg(email ORDER BY email) FROM users") == ["a@example.com"]


def test_register_reports_every_invalid_field(api: Any) -> None:
    response = api.post(REGISTER, json={"email": "not-an-email", "password": 12345678, "name": ""})

    assert response.status == 422
    fields = {field["field"] for field in response.json()["error"]["details"]["fields"]}
    assert fields == {"email", "password", "name"}


def test_login_answers_the_same_shape_as_register(api: Any, accounts: Any) -> None:
    account = accounts.create()

    response = api.post(LOGIN, json={"email": account.email.upper(), "password": account.password})

    assert response.status == 200
    assert set(response.json()) == {"user", "accessToken", "refreshToken", "expiresIn"}
    assert response.json()["user"]["id"] == account.id


def test_login_answers_unknown_email_and_wrong_password_alike(api: Any, accounts: Any) -> None:
    account = accounts.create()

    wrong_password = api.post(LOGIN, json={"email": account.email, "password": "wrong-password"})
    unknown_email = api.post(LOGIN, json={"email": "nobody@example.com", "password": "wrong-password"})

    assert wrong_password.status == unknown_email.status == 401
    assert wrong_password.json() == unknown_email.json()
    assert wrong_password.error_code == "INVALID_CREDENTIALS"


def test_refresh_rotates_the_token(api: Any, accounts: Any) -> None:
    account = accounts.create()

    response = api.post(REFRESH, json={"refreshToken": account.refresh_token})

    assert response.status == 200
    body = response.json()
    assert set(body) == {"accessToken", "refreshToken", "expiresIn"}
    assert body["refreshToken"] != account.refresh_token
    assert api.get("/api/users/profile", token=body["accessToken"]).status == 200


def test_a_reused_refresh_token_revokes_its_whole_family(api: Any, accounts: Any, db: Any) -> None:
    account = accounts.create()
    rotated = api.post(REFRESH, json={"refreshToken": account.refresh_token}).json()["refreshToken"]

    reuse = api.post(REFRESH, json={"refreshToken": account.refresh_token})

    assert reuse.status == 401
    assert api.post(REFRESH, json={"refreshToken": rotated}).status == 401
    live = db.value("SELECT count(*) FROM refresh_tokens WHERE user_id = :id AND revoked_at IS NULL", id=account.id)
    # The registration's own session is a separate family and stays live.
    assert live == 1


def test_an_expired_refresh_token_answers_token_expired(api: Any, accounts: Any, db: Any) -> None:
    account = accounts.create()
    db.execute("UPDATE refresh_tokens SET expires_at = now() - interval '1 second'")

    response = api.post(REFRESH, json={"refreshToken": account.refresh_token})

    assert response.status == 401
    assert response.error_code == "TOKEN_EXPIRED"


def test_an_unknown_refresh_token_is_unauthorized(api: Any) -> None:
    response = api.post(REFRESH, json={"refreshToken": "made-up"})

    assert response.status == 401
    assert response.error_code == "UNAUTHORIZED"


def test_logout_revokes_the_family(api: Any, accounts: Any) -> None:
    account = accounts.create()

    response = api.post(LOGOUT, json={"refreshToken": account.refresh_token})

    assert response.status == 204
    assert response.body == b""
    assert api.post(REFRESH, json={"refreshToken": account.refresh_token}).status == 401


def test_logout_twice_is_still_204(api: Any, accounts: Any) -> None:
    account = accounts.create()
    assert api.post(LOGOUT, json={"refreshToken": account.refresh_token}).status == 204

    assert api.post(LOGOUT, json={"refreshToken": account.refresh_token}).status == 204
    assert api.post(REFRESH, json={"refreshToken": account.refresh_token}).status == 401
