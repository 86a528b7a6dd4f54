"""All SQL of the `idempotency_keys` table: one row per user and `Idempotency-Key`, in flight (no answer yet) or
answered (docs/api.md, Idempotency-Key).

Each statement runs in the caller's short transaction; none waits for another request's key (a claim of a key
in flight answers False at once). The expiry sweep deletes expired keys in batches with SKIP LOCKED.
"""

from __future__ import annotations

from uuid import UUID

from ticketing.db import Session
from ticketing.db.connection import Row


def claim(
    tx: Session, *, user_id: UUID, key: str, operation: str, request_hash: bytes, ttl_seconds: int, lease_seconds: int
) -> bool:
    """Records the key as in flight. An expired key, or an in-flight one abandoned past its lease by a retry
    of the same request, is taken over; otherwise the existing row stays and this answers False."""
    claimed = tx.value(
        "INSERT INTO idempotency_keys (user_id, key, operation, request_hash, expires_at)"
        " VALUES (:user_id, :key, :operation, :request_hash, now() + make_interval(secs => :ttl))"
        " ON CONFLICT (user_id, key) DO UPDATE SET operation = EXCLUDED.operation,"
        " request_hash = EXCLUDED.request_hash, response_status = NULL, response_body = NULL,"
        " created_at = now(), expires_at = EXCLUDED.expires_at"
        " WHERE idempotency_keys.expires_at <= now()"
        " OR (idempotency_keys.response_status IS NULL AND idempotency_keys.request_hash = EXCLUDED.request_hash"
        "     AND idempotency_keys.created_at < now() - make_interval(secs => :lease))"
        " RETURNING true",
        user_id=user_id,
        key=key,
        operation=operation,
        request_hash=request_hash,
        ttl=ttl_seconds,
        lease=lease_seconds,
    )
    return bool(claimed)


def find(tx: Session, user_id: UUID, key: str) -> Row | None:
    return tx.row(
        "SELECT request_hash, response_status, response_body FROM idempotency_keys"
        " WHERE user_id = :user_id AND key = :key",
        user_id=user_id,
        key=key,
    )


def store_answer(tx: Session, *, user_id: UUID, key: str, status: int, body: str) -> None:
    tx.execute(
        "UPDATE idempotency_keys SET response_status = :status, response_body = :body"
        " WHERE user_id = :user_id AND key = :key",
        user_id=user_id,
        key=key,
        status=status,
        body=body,
    )


def forget(tx: Session, user_id: UUID, key: str) -> None:
    tx.execute(
        "DELETE FROM idempotency_keys WHERE user_id = :user_id AND key = :key AND response_status IS NULL",
        user_id=user_id,
        key=key,
    )


def delete_expired(tx: Session, limit: int) -> int:
    return tx.execute(
        "DELETE FROM idempotency_keys WHERE (user_id, key) IN ("
        " SELECT user_id, key FROM idempotency_keys WHERE expires_at <= now()"
        " LIMIT :limit FOR UPDATE SKIP LOCKED)",
        limit=limit,
    )
