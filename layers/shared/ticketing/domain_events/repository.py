"""SQL of the outbox (`outbox_events`): recording, claiming and settling domain events."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from ticketing.db import Session
from ticketing.db.connection import Row


def insert(tx: Session, *, event_type: str, payload: dict[str, Any], expand_bookings: bool = False) -> None:
    tx.execute(
        "INSERT INTO outbox_events (event_type, payload, expand_bookings)"
        " VALUES (:event_type, CAST(:payload AS jsonb), :expand_bookings)",
        event_type=event_type,
        payload=json.dumps(payload, default=str),
        expand_bookings=expand_bookings,
    )


def insert_many(tx: Session, *, event_type: str, payloads: list[dict[str, Any]]) -> None:
    tx.execute(
        "INSERT INTO outbox_events (event_type, payload)"
        " SELECT :event_type, payload FROM unnest(CAST(:payloads AS jsonb[])) AS p(payload)",
        event_type=event_type,
        payloads=[json.dumps(payload, default=str) for payload in payloads],
    )


def claim_unpublished(tx: Session, *, limit: int, lease_seconds: float, max_attempts: int | None = None) -> list[Row]:
    """Leases unpublished events to this publisher for `lease_seconds`, to be sent after this transaction
    commits; rows another publisher is claiming are skipped, not awaited, and so are rows whose lease runs.

    Fresh events come first so a few events that keep failing never starve the rest. An event whose
    per-booking events are still to be written (`claim_expansions`) waits until they are: then it leaves with
    them, and no publisher holds its lock while an expansion wants it.
    """
    return tx.rows(
        "UPDATE outbox_events SET claimed_until = now() + make_interval(secs => :lease)"
        " WHERE id IN (SELECT id FROM outbox_events"
        "   WHERE published_at IS NULL AND NOT expand_bookings"
        "   AND (claimed_until IS NULL OR claimed_until < now())"
        "   AND (CAST(:max_attempts AS integer) IS NULL OR attempts < :max_attempts)"
        "   ORDER BY attempts, created_at LIMIT :limit FOR UPDATE SKIP LOCKED)"
        " RETURNING id, event_type, payload, attempts, created_at",
        limit=limit,
        lease=lease_seconds,
        max_attempts=max_attempts,
    )


def claim_expansions(tx: Session, *, limit: int) -> list[Row]:
    """Locks events whose per-booking events are still to be written, oldest first; rows another publisher is
    expanding are skipped, not awaited."""
    return tx.rows(
        "SELECT id, event_type, payload FROM outbox_events WHERE expand_bookings"
        " ORDER BY created_at LIMIT :limit FOR UPDATE SKIP LOCKED",
        limit=limit,
    )


def mark_expanded(tx: Session, event_id: UUID) -> None:
    tx.execute("UPDATE outbox_events SET expand_bookings = false WHERE id = :id", id=event_id)


def mark_published(tx: Session, ids: list[UUID]) -> None:
    if ids:
        tx.execute(
            "UPDATE outbox_events SET published_at = now(), last_error = NULL, claimed_until = NULL"
            " WHERE id = ANY(CAST(:ids AS uuid[]))",
            ids=[str(event_id) for event_id in ids],
        )


def mark_failed(tx: Session, event_id: UUID, error: str) -> int:
    """Counts a failed attempt and answers the attempts made so far."""
    return int(
        tx.value(
            "UPDATE outbox_events SET attempts = attempts + 1, last_error = :error, claimed_until = NULL"
            " WHERE id = :id RETURNING attempts",
            id=event_id,
            error=error[:1000],
        )
    )
