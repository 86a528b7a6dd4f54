"""What happens to bookings when an event is cancelled (docs/refunds.md).

Runs inside the event's cancelling transaction, which holds the event row FOR UPDATE: create and confirm read
the event FOR SHARE, so any still in flight has finished, and none can start until we commit (they then see
CANCELLED). Every live booking of the event is locked in id order (waiting for a customer cancel or an
expiry batch in flight, which are short) and closed as one set: a few statements whatever their number.
Refunds are only queued here; the refund workers send them after commit. The per-booking BookingCancelled
domain events and the VOID of every ticket are not written here either: the event's one EventCancelled outbox
row has the outbox publisher write them right after commit (`finish_cancelled_event`); until then the event's
CANCELLED status is what makes its tickets void to every reader (docs/tickets.md).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from uuid import UUID

from ticketing import domain_events
from ticketing.bookings import repository as repo
from ticketing.bookings.closing import CANCELLED, CANCELLED_WITH_EVENT, Closed, close_bookings
from ticketing.db import Session
from ticketing.observability import count
from ticketing.tickets.repository import void_tickets_of_cancelled_event

REASON = "Event cancelled"


def cancel_event_bookings(tx: Session, event_id: UUID) -> Closed:
    """Cancels the event's PENDING and CONFIRMED bookings in the caller's transaction (seats freed, coupons
    back, refunds queued, each buyer told) and answers how many bookings and refunds that made."""
    tx.sort_in_memory()  # one notification per buyer: 50,000 bookings sorted by user
    booking_ids = repo.lock_live_booking_ids_of_event(tx, event_id)
    closed = close_bookings(tx, booking_ids, status=CANCELLED, reason=REASON, notice=CANCELLED_WITH_EVENT)
    count("BookingsCancelled", closed.bookings)
    return closed


def finish_cancelled_event(tx: Session, event_id: UUID) -> int:
    """What the event's cancellation left for after its commit: writes VOID into the event's tickets, and
    records the BookingCancelled domain event of every booking it cancelled, with the payload the cancel itself
    would have written (a CANCELLED booking never changes again). Answers how many booking events it wrote."""
    voided = void_tickets_of_cancelled_event(tx, event_id)
    count("TicketsVoided", voided)
    return repo.record_events_of_bookings_cancelled_with_event(
        tx, event_id, event_type=domain_events.BOOKING_CANCELLED, reason=REASON
    )


def expander_for(event_type: str) -> Callable[[Session, Mapping[str, Any]], int]:
    """The outbox publisher's expansion of an event type the bookings own (domain_events.expansion)."""
    if event_type != domain_events.EVENT_CANCELLED:
        raise LookupError(f"bookings expand no {event_type} events")
    return lambda tx, payload: finish_cancelled_event(tx, UUID(str(payload["eventId"])))
