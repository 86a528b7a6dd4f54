"""Where bookings end without being used: customer cancel, expiry and event cancellation share this.

Ending bookings is a handful of statements over the whole set, whatever its size (one booking for a customer
cancel, a hundred for an expiry batch, every booking of a stadium for an event cancellation): coupons given
back, confirmed payments turned into queued refunds, seats freed, bookings closed (version + 1), one
notification per booking (per user for an event), tickets voided and one domain event per booking (for an
event cancellation, both written right after commit from its one EventCancelled outbox row, docs/refunds.md).
No payment provider is called here: refunds leave the queue after commit, outside any row lock
(ticketing.refunds, docs/refunds.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from ticketing import domain_events
from ticketing.bookings import repository as repo
from ticketing.db import Session
from ticketing.db.connection import Row
from ticketing.db.id_set import IdSet
from ticketing.notifications.repository import notify_booking_owners
from ticketing.observability import count
from ticketing.payments import repository as payments
from ticketing.tickets.repository import void_tickets_for_bookings

CONFIRMED = "CONFIRMED"
CANCELLED = "CANCELLED"
EXPIRED = "EXPIRED"


@dataclass(frozen=True)
class ClosingNotice:
    """What a user is told, and which domain event is recorded, when their booking ends without being used."""

    notification_type: str
    title: str
    body: str
    domain_event: str
    # An event cancellation tells each buyer once, however many bookings they had; otherwise one per booking.
    once_per_user: bool = False
    # An event cancellation leaves its per-booking domain events and the VOID of its tickets to the outbox
    # publisher, which writes them right after commit (event_cancellation.finish_cancelled_event): one outbox
    # row in the cancelling transaction, not a row per booking and a new version of every ticket. Until then
    # the event's CANCELLED status is what makes its tickets void.
    finished_after_commit: bool = False


CANCELLED_BY_CUSTOMER = ClosingNotice(
    "BOOKING_CANCELLED", "Booking cancelled", "Your booking was cancelled.", domain_events.BOOKING_CANCELLED
)
EXPIRED_UNPAID = ClosingNotice(
    "BOOKING_EXPIRED",
    "Booking expired",
    "Your booking expired before it was paid; its seats are released.",
    domain_events.BOOKING_EXPIRED,
)
CANCELLED_WITH_EVENT = ClosingNotice(
    "EVENT_CANCELLED",
    "Event cancelled",
    "The event was cancelled. Your booking is cancelled and any payment is refunded.",
    domain_events.BOOKING_CANCELLED,
    once_per_user=True,
    finished_after_commit=True,
)


@dataclass(frozen=True)
class Closed:
    """How many bookings ended and how many refunds that queued."""

    bookings: int
    refunds_queued: int


def booking_payload(booking: Row, **extra: Any) -> dict[str, Any]:
    """A booking's domain event payload (repository._BOOKING_EVENT_PAYLOAD builds the same shape in SQL)."""
    return {
        "bookingId": str(booking["id"]),
        "userId": str(booking["user_id"]),
        "eventId": str(booking["event_id"]),
        "status": booking["status"],
        "total": booking["total"],
        "currency": booking["currency"],
        **extra,
    }


def close_bookings(
    tx: Session, booking_ids: IdSet, *, status: str, reason: str | None, notice: ClosingNotice
) -> Closed:
    """Ends live bookings as one set: coupons back, refunds queued, seats freed, tickets voided, users told, events
    recorded.

    The caller holds the bookings' row locks and passes their ids; the statements below run once each,
    never per booking. This is the one place that knows, inside the closing transaction, which bookings are
    ending: whatever else must end with them (tickets to void, ...) belongs here, one set-based call over
    the same `ids` (in SQL: `... = ANY(CAST(:ids AS uuid[]))` with `ids=ids.literal`).
    """
    # Imported here so the coupon code loads only when bookings actually end.
    from ticketing.coupons.service import release_for_bookings

    ids = booking_ids
    if not ids:
        return Closed(bookings=0, refunds_queued=0)
    release_for_bookings(tx, ids)
    refunds_queued = payments.queue_refunds(tx, ids)
    closed = repo.close_bookings(tx, ids, status=status, reason=reason)
    notify_booking_owners(
        tx,
        ids,
        type=notice.notification_type,
        title=notice.title,
        body=notice.body,
        once_per_user=notice.once_per_user,
    )
    if not notice.finished_after_commit:
        void_tickets_for_bookings(tx, ids)
        repo.record_booking_events(tx, ids, event_type=notice.domain_event, reason=reason)
    count("RefundsQueued", refunds_queued)
    return Closed(bookings=closed, refunds_queued=refunds_queued)


def expire_overdue_bookings(tx: Session, booking_ids: Sequence[UUID]) -> int:
    """Expires the PENDING bookings among `booking_ids` whose payment window has closed, now, without the job.

    Locks them NOWAIT (a confirm or cancel working on one answers SEATS_LOCKED rather than a wait);
    bookings that are not overdue are left alone. Answers how many it expired.
    """
    overdue = repo.lock_overdue_bookings(tx, booking_ids)
    if overdue:
        ids = IdSet.of(row["id"] for row in overdue)
        close_bookings(tx, ids, status=EXPIRED, reason=None, notice=EXPIRED_UNPAID)
        count("BookingsExpired", len(overdue))
    return len(overdue)
