"""SQL for refresh tokens (only hashes are stored; a family is one login's chain of rotations), and the one read
of an account's standing that access-token checks make (the users aggregate owns the table; auth reads two
columns of it because http, which checks callers, may not import users)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from ticketing.db import Session
from ticketing.db.connection import Row


def insert_refresh_token(
    tx: Session, *, user_id: UUID, family_id: UUID, token_hash: bytes, expires_at: datetime
) -> None:
    tx.execute(
        "INSERT INTO refresh_tokens (user_id, family_id, token_hash, expires_at)"
        " VALUES (:user_id, :family_id, :token_hash, :expires_at)",
        user_id=user_id,
        family_id=family_id,
        token_hash=token_hash,
        expires_at=expires_at,
    )


def lock_refresh_token(tx: Session, token_hash: bytes) -> Row | None:
    """The token row, locked so two concurrent refreshes with one token cannot both rotate it."""
    return tx.row(
        "SELECT id, user_id, family_id, expires_at, used_at, revoked_at, expires_at <= now() AS expired"
        " FROM refresh_tokens WHERE token_hash = :token_hash FOR UPDATE",
        token_hash=token_hash,
    )


def mark_used(tx: Session, token_id: UUID) -> None:
    tx.execute("UPDATE refresh_tokens SET used_at = now() WHERE id = :id", id=token_id)


def revoke_family(tx: Session, family_id: UUID) -> int:
    return tx.execute(
        "UPDATE refresh_tokens SET revoked_at = now() WHERE family_id = :family_id AND revoked_at IS NULL",
        family_id=family_id,
    )


def revoke_all_for_user(tx: Session, user_id: UUID) -> int:
    return tx.execute(
        "UPDATE refresh_tokens SET revoked_at = now() WHERE user_id = :user_id AND revoked_at IS NULL",
        user_id=user_id,
    )


def account_standing(tx: Session, user_id: UUID) -> Row | None:
    """The account's current role and whether it is disabled; None when it no longer exists."""
    return tx.row("SELECT role, disabled_at IS NOT NULL AS disabled FROM users WHERE id = :id", id=user_id)
