"""SQL for reviews."""

from __future__ import annotations

from uuid import UUID

from ticketing.db import Session
from ticketing.db.connection import Row

_REVIEW_COLUMNS = "r.id, r.user_id, u.name AS user_name, r.rating, r.comment, r.created_at"


def find_event(tx: Session, event_id: UUID) -> Row | None:
    """The event's status and whether it has started, by the database's clock."""
    return tx.row("SELECT status, starts_at <= now() AS started FROM events WHERE id = :id", id=event_id)


def has_confirmed_booking(tx: Session, *, event_id: UUID, user_id: UUID) -> bool:
    return bool(
        tx.value(
            "SELECT EXISTS (SELECT 1 FROM bookings"
            " WHERE event_id = :event_id AND user_id = :user_id AND status = 'CONFIRMED')",
            event_id=event_id,
            user_id=user_id,
        )
    )


def insert_review(tx: Session, *, event_id: UUID, user_id: UUID, rating: int, comment: str | None) -> Row:
    row = tx.row(
        "WITH r AS (INSERT INTO reviews (event_id, user_id, rating, comment)"
        " VALUES (:event_id, :user_id, :rating, :comment) RETURNING *)"
        f" SELECT {_REVIEW_COLUMNS} FROM r JOIN users u ON u.id = r.user_id",
        event_id=event_id,
        user_id=user_id,
        rating=rating,
        comment=comment,
    )
    assert row is not None
    return row


def review_summary(tx: Session, event_id: UUID) -> Row:
    """`review_count` and `average_rating` (rounded to 2 decimals, NULL without reviews) of an event."""
    row = tx.row(
        "SELECT count(*) AS review_count, round(avg(rating), 2) AS average_rating FROM reviews WHERE event_id = :id",
        id=event_id,
    )
    assert row is not None
    return row


def list_reviews(tx: Session, event_id: UUID, *, limit: int, offset: int) -> list[Row]:
    return tx.rows(
        f"SELECT {_REVIEW_COLUMNS} FROM reviews r JOIN users u ON u.id = r.user_id"
        " WHERE r.event_id = :event_id ORDER BY r.created_at DESC, r.id DESC LIMIT :limit OFFSET :offset",
        event_id=event_id,
        limit=limit,
        offset=offset,
    )
