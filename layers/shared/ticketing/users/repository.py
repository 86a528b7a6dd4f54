"""SQL for users."""

from __future__ import annotations

from uuid import UUID

from ticketing.db import Session
from ticketing.db.connection import Row

_USER_COLUMNS = "id, email, name, phone, role, password_hash, created_at, disabled_at"


def insert_user(tx: Session, *, email: str, password_hash: str, name: str, phone: str | None, role: str) -> Row:
    row = tx.row(
        f"INSERT INTO users (email, password_hash, name, phone, role)"
        f" VALUES (:email, :password_hash, :name, :phone, :role) RETURNING {_USER_COLUMNS}",
        email=email,
        password_hash=password_hash,
        name=name,
        phone=phone,
        role=role,
    )
    assert row is not None
    return row


def find_by_email(tx: Session, email: str) -> Row | None:
    return tx.row(f"SELECT {_USER_COLUMNS} FROM users WHERE lower(email) = lower(:email)", email=email)


def find_by_id(tx: Session, user_id: UUID, *, for_update: bool = False) -> Row | None:
    lock = " FOR UPDATE" if for_update else ""
    return tx.row(f"SELECT {_USER_COLUMNS} FROM users WHERE id = :id{lock}", id=user_id)


def update_profile(tx: Session, user_id: UUID, changes: dict[str, str | None]) -> Row | None:
    return tx.row(
        f"UPDATE users SET"
        f" name = CASE WHEN :set_name THEN :name ELSE name END,"
        f" phone = CASE WHEN :set_phone THEN :phone ELSE phone END,"
        f" updated_at = now()"
        f" WHERE id = :id RETURNING {_USER_COLUMNS}",
        id=user_id,
        set_name="name" in changes,
        name=changes.get("name"),
        set_phone="phone" in changes,
        phone=changes.get("phone"),
    )


def update_password(tx: Session, user_id: UUID, password_hash: str) -> None:
    tx.execute(
        "UPDATE users SET password_hash = :hash, password_changed_at = now(), updated_at = now() WHERE id = :id",
        hash=password_hash,
        id=user_id,
    )
