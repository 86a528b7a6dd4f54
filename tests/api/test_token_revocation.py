"""A role change or a disabled account takes effect at once on the calls that matter (every role-gated call), and
a disabled account can neither sign in nor refresh (docs/security.md, "Tokens")."""

from __future__ import annotations

from typing import Any

VENUE = {"name": "Hall", "address": "1 Main St", "city": "Berlin", "country": "DE", "timezone": "Europe/Berlin"}


def _venue_count(db: Any) -> int:
    return int(db.value("SELECT count(*) FROM venues"))


def test_a_demoted_admin_is_refused_at_once_though_the_token_still_says_admin(api: Any, accounts: Any, db: Any) -> None:
    admin = accounts.create("ADMIN")
    assert api.post("/api/venues", json=VENUE, token=admin.token).status == 201
    assert db.execute("UPDATE users SET role = 'USER' WHERE id = :id", id=admin.id) == 1

    response = api.post("/api/venues", json=VENUE, token=admin.token)

    assert (response.status, response.error_code) == (403, "FORBIDDEN")
    assert _venue_count(db) == 1


def test_a_promoted_user_may_use_the_new_role_without_signing_in_again(api: Any, accounts: Any, db: Any) -> None:
    user = accounts.create()
    assert db.execute("UPDATE users SET role = 'ADMIN' WHERE id = :id", id=user.id) == 1

    response = api.post("/api/venues", json=VENUE, token=user.token)

    assert response.status == 201
    assert _venue_count(db) == 1


def test_a_disabled_account_is_refused_at_once_on_role_gated_calls(api: Any, accounts: Any, db: Any) -> None:
    admin = accounts.create("ADMIN")
    assert db.execute("UPDATE users SET disabled_at = now() WHERE id = :id", id=admin.id) == 1

    response = api.post("/api/venues", json=VENUE, token=admin.token)

    assert (response.status, response.error_code) == (401, "UNAUTHORIZED")
    assert _venue_count(db) == 0


def test_a_disabled_account_can_neither_sign_in_nor_refresh(api: Any, accounts: Any, db: Any) -> None:
    user = accounts.create()
    assert db.execute("UPDATE users SET disabled_at = now() WHERE id = :id", id=user.id) == 1
    tokens_before = db.value("SELECT count(*) FROM refresh_tokens WHERE user_id = :id", id=user.id)

    login = api.post("/api/auth/login", json={"email": user.email, "password": user.password})
    refresh = api.post("/api/auth/refresh-token", json={"refreshToken": user.refresh_token})

    assert (login.status, login.error_code) == (401, "UNAUTHORIZED")
    assert (refresh.status, refresh.error_code) == (401, "UNAUTHORIZED")
    assert db.value("SELECT count(*) FROM refresh_tokens WHERE user_id = :id", id=user.id) == tokens_before
