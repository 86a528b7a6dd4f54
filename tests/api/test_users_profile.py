"""Users (docs/api.md): profile and password."""

from __future__ import annotations

from typing import Any

PROFILE = "/api/users/profile"
CHANGE_PASSWORD = "/api/users/change-password"


def test_profile_answers_the_callers_user(api: Any, accounts: Any) -> None:
    account = accounts.create()

    response = api.get(PROFILE, token=account.token)

    assert response.status == 200
    assert response.json() == {
        "id": account.id,
        "email": account.email,
        "name": "User 1",
        "phone": None,
        "role": "USER",
        "createdAt": response.json()["createdAt"],
    }


def test_profile_requires_a_token(api: Any, db: Any) -> None:
    response = api.get(PROFILE)

    assert response.status == 401
    assert response.error_code == "UNAUTHORIZED"


def test_profile_update_changes_name_and_phone(api: Any, accounts: Any, db: Any) -> None:
    account = accounts.create()

    response = api.put(PROFILE, json={"name": "  Grace Hopper ", "phone": "+1 555 0100"}, token=account.token)

    assert response.status == 200
    assert response.json()["name"] == "Grace Hopper"
    assert response.json()["phone"] == "+1 555 0100"
    stored = db.rows("SELECT name, phone FROM users WHERE id = :id", id=account.id)[0]
    assert stored == {"name": "Grace Hopper", "phone": "+1 555 0100"}


def test_profile_update_with_only_phone_keeps_the_name(api: Any, accounts: Any) -> None:
    account = accounts.create()

    response = api.put(PROFILE, json={"phone": "030 1234567"}, token=account.token)

    assert response.json()["name"] == "User 1"


def test_profile_update_with_null_phone_clears_it(api: Any, accounts: Any, db: Any) -> None:
    account = accounts.create()
    assert api.put(PROFILE, json={"phone": "030 1234567"}, token=account.token).json()["phone"] == "030 1234567"

    response = api.put(PROFILE, json={"phone": None}, token=account.token)

    assert response.json()["phone"] is None
    assert db.value("SELECT phone FROM users WHERE id = :id", id=account.id) is None


def test_profile_update_refuses_a_null_name_and_changes_nothing(api: Any, accounts: Any, db: Any) -> None:
    account = accounts.create()

    response = api.put(PROFILE, json={"name": None}, token=account.token)

    assert response.status == 422
    assert response.json()["error"]["details"]["fields"][0]["field"] == "name"
    assert db.value("SELECT name FROM users WHERE id = :id", id=account.id) == "User 1"


def test_profile_update_cannot_change_the_role(api: Any, accounts: Any, db: Any) -> None:
    account = accounts.create()

    response = api.put(PROFILE, json={"role": "ADMIN"}, token=account.token)

    assert response.status == 422
    assert db.value("SELECT role FROM users WHERE id = :id", id=account.id) == "USER"


def test_change_password_revokes_every_refresh_token(api: Any, accounts: Any, db: Any) -> None:
    account = accounts.create()

    response = api.put(
        CHANGE_PASSWORD,
        json={"currentPassword": account.password, "newPassword": "a-brand-new-one"},
        token=account.token,
    )

    assert response.status == 204
    assert db.value("SELECT count(*) FROM refresh_tokens WHERE revoked_at IS NULL") == 0
    assert api.post("/api/auth/refresh-token", json={"refreshToken": account.refresh_token}).status == 401
    assert api.post("/api/auth/login", json={"email": account.email, "password": "a-brand-new-one"}).status == 200
    assert api.post("/api/auth/login", json={"email": account.email, "password": account.password}).status == 401


def test_change_password_with_a_wrong_current_password_changes_nothing(api: Any, accounts: Any, db: Any) -> None:
    account = accounts.create()
    hash_before = db.value("SELECT password_hash FROM users WHERE id = :id", id=account.id)

    response = api.put(
        CHANGE_PASSWORD, json={"currentPassword": "not-my-password", "newPassword": "whatever-123"}, token=account.token
    )

    assert response.status == 401
    assert response.error_code == "INVALID_CREDENTIALS"
    assert db.value("SELECT password_hash FROM users WHERE id = :id", id=account.id) == hash_before
    assert db.value("SELECT count(*) FROM refresh_tokens WHERE revoked_at IS NULL") == 2


def test_change_password_refuses_a_short_new_password(api: Any, accounts: Any) -> None:
    account = accounts.create()

    response = api.put(
        CHANGE_PASSWORD, json={"currentPassword": account.password, "newPassword": "short"}, token=account.token
    )

    assert response.status == 422
    assert response.json()["error"]["details"]["fields"][0]["field"] == "newPassword"
