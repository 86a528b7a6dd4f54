"""All SQL of the bookings' lifecycle: create, confirm, close (cancel, expire), read; and their outbox rows.
Payments have their own SQL (ticketing.payments.repository), holds theirs (holds_repository).

Locks: booking rows `FOR UPDATE` in id order where a set is closed (the expiry with SKIP LOCKED, an inline
expiry with NOWAIT); the confirm is one guarded UPDATE (optimistic on `version`). Changing a booking's status
fires the status-copy trigger (migrations 0006, 0015), which copies it into its items and attached seats and so
locks those seat rows too (docs/architecture.md, "Triggers").
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from ticketing.bookings.seats_sql import RELEASED_SEAT, SEAT_VIEW
from ticketing.db import Session
from ticketing.db.connection import Row
from ticketing.db.id_set import IdSet
from ticketing.payments.repository import BOOKING_HAS_PAYMENT_IN_FLIGHT

_BOOKING_COLUMNS = """
    id, user_id, event_id, status, subtotal, discount, total, currency, coupon_code, expires_at, version,
    created_at, confirmed_at, cancelled_at, (expires_at <= now()) AS past_expiry
"""


def database_now(tx: Session) -> datetime:
    moment: datetime = tx.value("SELECT now()")
    return moment


def seat_prices(tx: Session, seat_ids: Sequence[UUID]) -> list[Row]:
    return tx.rows(
        f"SELECT es.id, p.price FROM {SEAT_VIEW} WHERE es.id = ANY(CAST(:ids AS uuid[])) ORDER BY es.id",
        ids=list(seat_ids),
    )


def insert_booking(
    tx: Session,
    *,
    user_id: UUID,
    event_id: UUID,
    subtotal: int,
    discount: int,
    currency: str,
    coupon_id: UUID | None,
    coupon_code: str | None,
    ttl_seconds: int,
) -> Row:
    row = tx.row(
        "INSERT INTO bookings (user_id, event_id, subtotal, discount, total, currency, coupon_id, coupon_code,"
        " expires_at)"
        " VALUES (:user_id, :event_id, :subtotal, :discount, :total, :currency, :coupon_id,"
        " :coupon_code, now() + make_interval(secs => :ttl))"
        f" RETURNING {_BOOKING_COLUMNS}",
        user_id=user_id,
        event_id=event_id,
        subtotal=subtotal,
        discount=discount,
        total=subtotal - discount,
        currency=currency,
        coupon_id=coupon_id,
        coupon_code=coupon_code,
        ttl=ttl_seconds,
    )
    assert row is not None
    return row


def insert_items(tx: Session, booking_id: UUID, seat_ids: Sequence[UUID]) -> None:
    """Adds the seats as items at this event's section prices."""
    # Fires booking_items_status_copy_inserted (0006) and the deferred subtotal check (0001, 0005).
    tx.execute(
        "INSERT INTO booking_items (booking_id, booking_status, event_seat_id, price)"
        f" SELECT :booking_id, 'PENDING', es.id, p.price FROM {SEAT_VIEW} WHERE es.id = ANY(CAST(:ids AS uuid[]))",
        booking_id=booking_id,
        ids=list(seat_ids),
    )


def attach_seats(tx: Session, booking_id: UUID, seat_ids: Sequence[UUID], held_until: datetime) -> None:
    """The seats stay HELD, now for the booking, until it expires."""
    # Fires event_seats_status_copy_updated (0006, 0015) and event_seats_count_changes (0007).
    tx.execute(
        "UPDATE event_seats SET booking_id = :booking_id, booking_status = 'PENDING', held_until = :held_until"
        " WHERE id = ANY(CAST(:ids AS uuid[]))",
        booking_id=booking_id,
        held_until=held_until,
        ids=list(seat_ids),
    )


def find_booking(tx: Session, booking_id: UUID, *, for_update: bool = False) -> Row | None:
    lock = " FOR UPDATE" if for_update else ""
    return tx.row(f"SELECT {_BOOKING_COLUMNS} FROM bookings WHERE id = :id{lock}", id=booking_id)


def confirm_booking(tx: Session, booking_id: UUID, version: int, *, allow_past_expiry: bool = False) -> Row | None:
    """The optimistic confirm (docs/booking-lifecycle.md): only the expected, still PENDING version moves on, and
    only while unexpired unless `allow_past_expiry` (its payment was in flight, which holds the window open)."""
    # Fires bookings_copy_status (migration 0006): CONFIRMED is copied into the items and attached seats,
    # which locks those seat rows (docs/architecture.md, "Rules in triggers").
    return tx.row(
        "UPDATE bookings SET status = 'CONFIRMED', version = version + 1, confirmed_at = now(), updated_at = now()"
        " WHERE id = :id AND version = :version AND status = 'PENDING' AND (expires_at > now() OR :past_expiry)"
        f" RETURNING {_BOOKING_COLUMNS}",
        id=booking_id,
        version=version,
        past_expiry=allow_past_expiry,
    )


def mark_seats_booked(tx: Session, booking_id: UUID) -> None:
    # Fires event_seats_status_copy_updated (0006, 0015) and event_seats_count_changes (0007).
    tx.execute(
        "UPDATE event_seats SET status = 'BOOKED', held_until = NULL WHERE booking_id = :booking_id",
        booking_id=booking_id,
    )


def close_bookings(tx: Session, booking_ids: IdSet, *, status: str, reason: str | None) -> int:
    """Moves PENDING or CONFIRMED bookings to CANCELLED or EXPIRED (version + 1), freeing their seats first;
    answers how many moved. Two statements, whatever the number of bookings.

    The seats go first: the database copies the bookings' new status into the `booking_status` of their
    items and attached seats (bookings_copy_status, migration 0006; docs/architecture.md), and a seat's copy
    may only be that of a live booking.
    """
    ids = booking_ids.literal
    tx.execute(
        f"UPDATE event_seats SET {RELEASED_SEAT}, booking_id = NULL, booking_status = NULL"
        " WHERE booking_id = ANY(CAST(:ids AS uuid[]))",
        ids=ids,
    )
    return tx.execute(
        "UPDATE bookings SET status = :status, version = version + 1, updated_at = now(),"
        " cancelled_at = CASE WHEN :status = 'CANCELLED' THEN now() END,"
        " expired_at = CASE WHEN :status = 'EXPIRED' THEN now() END,"
        " cancel_reason = :reason"
        " WHERE id = ANY(CAST(:ids AS uuid[])) AND status IN ('PENDING', 'CONFIRMED')",
        status=status,
        reason=reason,
        ids=ids,
    )


# A booking's domain event payload, built from the booking (alias b) as it is now; closing.booking_payload builds
# the same shape in Python.
_BOOKING_EVENT_PAYLOAD = (
    "jsonb_build_object('bookingId', b.id, 'userId', b.user_id, 'eventId', b.event_id, 'status', b.status,"
    " 'total', b.total, 'currency', b.currency, 'reason', CAST(:reason AS text))"
)


def record_booking_events(tx: Session, booking_ids: IdSet, *, event_type: str, reason: str | None) -> int:
    """One outbox domain event per booking (one statement)."""
    return tx.execute(
        f"INSERT INTO outbox_events (event_type, payload) SELECT :event_type, {_BOOKING_EVENT_PAYLOAD}"
        " FROM bookings b WHERE b.id = ANY(CAST(:ids AS uuid[]))",
        event_type=event_type,
        reason=reason,
        ids=booking_ids.literal,
    )


def record_events_of_bookings_cancelled_with_event(tx: Session, event_id: UUID, *, event_type: str, reason: str) -> int:
    """One outbox domain event per booking the event's cancellation cancelled (one statement): those cancelled
    with its reason at the very moment the event was (both the cancelling transaction's `now()`), so a booking
    the customer cancelled earlier, which has its own event already, is not among them."""
    return tx.execute(
        f"INSERT INTO outbox_events (event_type, payload) SELECT :event_type, {_BOOKING_EVENT_PAYLOAD}"
        " FROM bookings b JOIN events e ON e.id = b.event_id"
        " WHERE b.event_id = :event_id AND b.status = 'CANCELLED' AND b.cancel_reason = :reason"
        " AND b.cancelled_at = e.cancelled_at",
        event_type=event_type,
        reason=reason,
        event_id=event_id,
    )


def lock_expired_bookings(tx: Session, limit: int) -> list[Row]:
    """PENDING bookings past their expiry, skipping any a confirm or cancel is working on right now and any whose
    payment is in flight (the reconciliation settles it first, docs/payments.md)."""
    return tx.rows(
        # payable_until is expires_at while PENDING (migration 0014): the expiry queue's index.
        f"SELECT {_BOOKING_COLUMNS} FROM bookings b WHERE payable_until <= now() AND status = 'PENDING'"
        f" AND NOT {BOOKING_HAS_PAYMENT_IN_FLIGHT}"
        " ORDER BY payable_until LIMIT :limit FOR UPDATE SKIP LOCKED",
        limit=limit,
    )


def lock_overdue_bookings(tx: Session, booking_ids: Sequence[UUID]) -> list[Row]:
    """Those of `booking_ids` that are PENDING past their expiry and have no payment in flight, locked without
    waiting (55P03 when taken)."""
    return tx.rows(
        f"SELECT {_BOOKING_COLUMNS} FROM bookings b"
        " WHERE id = ANY(CAST(:ids AS uuid[])) AND status = 'PENDING' AND expires_at <= now()"
        f" AND NOT {BOOKING_HAS_PAYMENT_IN_FLIGHT}"
        " ORDER BY id FOR UPDATE NOWAIT",
        ids=list(booking_ids),
    )


def lock_live_booking_ids_of_event(tx: Session, event_id: UUID) -> IdSet:
    """Locks every PENDING and CONFIRMED booking of the event, in id order, waiting for a change in flight.

    Answers their ids as one value (an array literal), however many there are.
    """
    row = tx.row(
        "SELECT CAST(array_agg(id ORDER BY id) AS text) AS ids, count(*) AS n FROM ("
        " SELECT id FROM bookings WHERE event_id = :event_id AND status IN ('PENDING', 'CONFIRMED')"
        " ORDER BY id FOR UPDATE) AS locked",
        event_id=event_id,
    )
    return IdSet.from_sql(row["ids"] if row else None, row["n"] if row else 0)


def items_of(tx: Session, booking_ids: Sequence[UUID]) -> list[Row]:
    return tx.rows(
        "SELECT bi.booking_id, es.id AS seat_id, s.name AS section, vs.row_label AS row, vs.number, bi.price"
        " FROM booking_items bi JOIN event_seats es ON es.id = bi.event_seat_id"
        " JOIN venue_seats vs ON vs.id = es.venue_seat_id JOIN sections s ON s.id = es.section_id"
        " WHERE bi.booking_id = ANY(CAST(:ids AS uuid[])) ORDER BY s.name, vs.row_index, vs.number",
        ids=list(booking_ids),
    )


def list_bookings(
    tx: Session, *, user_id: UUID, status: str | None, event_id: UUID | None, limit: int, offset: int
) -> tuple[list[Row], int]:
    filters = (
        " WHERE user_id = :user_id AND (CAST(:status AS text) IS NULL OR status = :status)"
        " AND (CAST(:event_id AS uuid) IS NULL OR event_id = CAST(:event_id AS uuid))"
    )
    params: dict[str, Any] = {"user_id": user_id, "status": status, "event_id": event_id}
    total: int = tx.value(f"SELECT count(*) FROM bookings{filters}", **params)
    rows = tx.rows(
        f"SELECT {_BOOKING_COLUMNS} FROM bookings{filters} ORDER BY created_at DESC, id LIMIT :limit OFFSET :offset",
        limit=limit,
        offset=offset,
        **params,
    )
    return rows, total
