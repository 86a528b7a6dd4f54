"""Where bookings end without being used: customer cancel, expiry and event cancellation share this.

Ending a booking refunds a confirmed payment, frees the seats, gives the coupon back, tells the user and
records the domain event, all in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from ticketing import domain_events
from ticketing.bookings import repository as repo
from ticketing.bookings.payments import PaymentProvider, payment_provider
from ticketing.db import Session
from ticketing.db.connection import Row
from ticketing.errors import ServiceUnavailable
from ticketing.notifications.repository import notify
from ticketing.observability import count
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
)


def booking_payload(booking: Row, **extra: Any) -> dict[str, Any]:
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
    tx: Session, bookings: list[Row], *, status: str, reason: str | None, notice: ClosingNotice
) -> list[Row]:
    """Ends live bookings: refunds confirmed payments, frees the seats, gives coupons back, tells the users.

    The caller holds the bookings' row locks. Shared by customer cancel, the expiry job and event cancellation.
    """
    # Imported here so the coupon code loads only when bookings actually end.
    from ticketing.coupons.service import release_for_booking

    provider = payment_provider()
    for booking in bookings:
        if booking["status"] == CONFIRMED:
            _refund(tx, provider, booking)
        release_for_booking(tx, booking["id"])
    closed = repo.close_bookings(tx, [booking["id"] for booking in bookings], status=status, reason=reason)
    void_tickets_for_bookings(tx, [booking["id"] for booking in closed])
    for booking in closed:
        notify(
            tx,
            user_id=booking["user_id"],
            type=notice.notification_type,
            title=notice.title,
            body=notice.body,
            data={"bookingId": str(booking["id"]), "eventId": str(booking["event_id"])},
        )
        domain_events.record(tx, event_type=notice.domain_event, payload=booking_payload(booking, reason=reason))
    return closed


def _refund(tx: Session, provider: PaymentProvider, booking: Row) -> None:
    payment = repo.succeeded_payment(tx, booking["id"])
    if payment is None:
        return
    refund = provider.refund(reference=payment["reference"], amount=payment["amount"])
    if not refund.succeeded:
        raise ServiceUnavailable("The payment provider could not refund right now; retry.")
    repo.mark_refunded(tx, payment["id"])


def expire_overdue_bookings(tx: Session, booking_ids: Sequence[UUID]) -> int:
    """Expires the PENDING bookings among `booking_ids` whose payment window has closed, now, without the job.

    Locks them NOWAIT (a confirm or cancel working on one answers SEATS_LOCKED rather than a wait);
    bookings that are not overdue are left alone. Answers how many it expired.
    """
    overdue = repo.lock_overdue_bookings(tx, booking_ids)
    if overdue:
        close_bookings(tx, overdue, status=EXPIRED, reason=None, notice=EXPIRED_UNPAID)
        count("BookingsExpired", len(overdue))
    return len(overdue)
