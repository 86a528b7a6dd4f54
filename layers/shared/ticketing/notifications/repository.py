"""SQL for notifications."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from ticketing.db import Session
from ticketing.db.connection import Row
from ticketing.db.id_set import IdSet


def _uuid_in_data(key: str) -> str:
    """`data ->> key` as a uuid, or NULL when absent or not a uuid (data is free-form per notification type)."""
    value = f"data ->> '{key}'"
    return f"CASE WHEN {value} ~* '^[0-9a-f]{{8}}-([0-9a-f]{{4}}-){{3}}[0-9a-f]{{12}}$' THEN CAST({value} AS uuid) END"


def notify(tx: Session, *, user_id: UUID, type: str, title: str, body: str, data: dict[str, Any]) -> None:
    """Adds a notification inside the caller's transaction, so it exists exactly when the change does."""
    # Fires notifications_owners_inserted (migration 0013): the user is checked and FOR KEY SHARE-locked.
    tx.execute(
        "INSERT INTO notifications (user_id, type, title, body, data)"
        " VALUES (:user_id, :type, :title, :body, CAST(:data AS jsonb))",
        user_id=user_id,
        type=type,
        title=title,
        body=body,
        data=json.dumps(data, default=str),
    )


def notify_booking_owners(
    tx: Session, booking_ids: IdSet, *, type: str, title: str, body: str, once_per_user: bool
) -> int:
    """Tells the owners of the bookings, in one statement whatever their number: one notification per booking,
    or with `once_per_user` one per user and event (naming the user's first booking by id). Each names the
    event and the booking in its data. Answers how many it added."""
    return tx.execute(
        "INSERT INTO notifications (user_id, type, title, body, data)"
        " SELECT DISTINCT ON (user_id, event_id, CASE WHEN :once_per_user THEN NULL ELSE id END)"
        " user_id, :type, :title, :body, jsonb_build_object('bookingId', id, 'eventId', event_id)"
        " FROM bookings WHERE id = ANY(CAST(:ids AS uuid[]))"
        " ORDER BY user_id, event_id, CASE WHEN :once_per_user THEN NULL ELSE id END, id",
        type=type,
        title=title,
        body=body,
        once_per_user=once_per_user,
        ids=booking_ids.literal,
    )


def notify_ticket_holders(
    tx: Session, *, event_id: UUID, type: str, title: str, body: str, data: dict[str, Any]
) -> int:
    """One notification per user with a CONFIRMED booking for the event, in one statement."""
    return tx.execute(
        "INSERT INTO notifications (user_id, type, title, body, data)"
        " SELECT DISTINCT user_id, :type, :title, :body, CAST(:data AS jsonb) FROM bookings"
        " WHERE event_id = :event_id AND status = 'CONFIRMED'",
        event_id=event_id,
        type=type,
        title=title,
        body=body,
        data=json.dumps(data, default=str),
    )


def list_for_user(tx: Session, user_id: UUID, *, unread_only: bool, limit: int, offset: int) -> tuple[list[Row], int]:
    """A page of the user's notifications, newest first, and how many match in all."""
    where = " WHERE user_id = :user_id AND (NOT :unread_only OR read_at IS NULL)"
    params = {"user_id": user_id, "unread_only": unread_only}
    total = int(tx.value(f"SELECT count(*) FROM notifications{where}", **params))
    rows = tx.rows(
        f"SELECT id, type, title, body, created_at, read_at, {_uuid_in_data('bookingId')} AS booking_id,"
        f" {_uuid_in_data('eventId')} AS event_id FROM notifications{where}"
        " ORDER BY created_at DESC, id DESC LIMIT :limit OFFSET :offset",
        limit=limit,
        offset=offset,
        **params,
    )
    return rows, total


def mark_read(tx: Session, user_id: UUID, notification_id: UUID) -> bool:
    """Sets read_at once (a second call keeps the first time); False when the user has no such notification."""
    touched = tx.execute(
        "UPDATE notifications SET read_at = COALESCE(read_at, now()) WHERE id = :id AND user_id = :user_id",
        id=notification_id,
        user_id=user_id,
    )
    return touched == 1


def claim_email(tx: Session, *, delivery_key: str, event_type: str, lease_seconds: float) -> bool:
    """Takes on the e-mail of one domain event (`email_deliveries`); False when it was sent already or another
    attempt holds a live claim. A claim whose lease ran out (its sender died before marking) is taken over."""
    claimed = tx.value(
        "INSERT INTO email_deliveries (delivery_key, event_type, claimed_until)"
        " VALUES (:key, :event_type, now() + make_interval(secs => :lease))"
        " ON CONFLICT (delivery_key) DO UPDATE SET claimed_until = EXCLUDED.claimed_until"
        " WHERE email_deliveries.sent_at IS NULL AND email_deliveries.claimed_until < now()"
        " RETURNING true",
        key=delivery_key,
        event_type=event_type,
        lease=lease_seconds,
    )
    return bool(claimed)


def mark_email_sent(tx: Session, *, delivery_key: str, message_id: str) -> None:
    tx.execute(
        "UPDATE email_deliveries SET sent_at = now(), message_id = :message_id WHERE delivery_key = :key",
        key=delivery_key,
        message_id=message_id,
    )


def release_email(tx: Session, delivery_key: str) -> None:
    """Gives up an unsent claim (the send failed), so the retry of the same event sends."""
    tx.execute("DELETE FROM email_deliveries WHERE delivery_key = :key AND sent_at IS NULL", key=delivery_key)
