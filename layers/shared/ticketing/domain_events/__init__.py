"""Domain events (BookingConfirmed, BookingCancelled, BookingExpired, EventCancelled, TicketCheckedIn,
TicketTransferred) via the outbox.

`record` writes the event in the caller's transaction. After that transaction commits, the caller runs
`publish_after_commit()`, which sends fresh events to EventBridge; the outbox publisher function sweeps
up every minute whatever that could not send. A publishing failure never undoes the committed change.

An event cancellation records one EventCancelled row marked to expand into its per-booking BookingCancelled
events (`expand_bookings`), then `wake_publisher_after_commit()` has the outbox publisher write and publish
them at once (`expansion`; docs/refunds.md).

On the bus an event is `source: "ticketing"`, `detail-type: <event type>`, `detail: <payload>` plus
`domainEventId`, the outbox row's id: an event may be published more than once (docs/security.md,
"Exactly-once delivery"), and consumers deduplicate on it.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from ticketing.config import get_settings
from ticketing.db import Session
from ticketing.db.connection import in_transaction
from ticketing.domain_events import repository

BOOKING_CONFIRMED = "BookingConfirmed"
BOOKING_CANCELLED = "BookingCancelled"
BOOKING_EXPIRED = "BookingExpired"
EVENT_CANCELLED = "EventCancelled"
TICKET_CHECKED_IN = "TicketCheckedIn"
TICKET_TRANSFERRED = "TicketTransferred"

EVENT_TYPES = (
    BOOKING_CONFIRMED,
    BOOKING_CANCELLED,
    BOOKING_EXPIRED,
    EVENT_CANCELLED,
    TICKET_CHECKED_IN,
    TICKET_TRANSFERRED,
)


# The key consumers deduplicate on, added to every event's detail when it is published.
DEDUPLICATION_KEY = "domainEventId"

# detail-type of the payload that wakes the outbox publisher (it drains the outbox whatever the payload).
EXPANSION_QUEUED = "BookingEventsToExpand"


def record(tx: Session, *, event_type: str, payload: dict[str, Any], expand_bookings: bool = False) -> None:
    """Records one event. With `expand_bookings` (an EventCancelled with bookings) the outbox publisher also
    writes, after commit, the BookingCancelled events of the bookings cancelled with the event (`expansion`)."""
    repository.insert(tx, event_type=event_type, payload=payload, expand_bookings=expand_bookings)


def record_many(tx: Session, *, event_type: str, payloads: list[dict[str, Any]]) -> None:
    """Records one event per payload in a single statement (a check-in batch admits up to 500 tickets)."""
    if payloads:
        repository.insert_many(tx, event_type=event_type, payloads=payloads)


def publish_after_commit() -> int:
    """Publishes the events just recorded; call it after the recording transaction committed.

    Safe anywhere: a no-op without EVENT_BUS_NAME (local runs, tests) and it never raises, because the
    change is already committed and the sweep retries whatever is left. Answers how many were published.
    """
    if not get_settings().event_bus_name or in_transaction():
        # Inside a unit of work (ticketing.db.unit_of_work) nothing is committed yet: whoever opened it publishes
        # after its commit, and the sweep takes what nobody did.
        return 0
    # Imported here: only deployed functions that publish load boto3.
    from ticketing.domain_events.publisher import publish_fresh

    return publish_fresh()


def wake_publisher_after_commit(event_id: UUID) -> bool:
    """Wakes the outbox publisher to expand the event cancellation just committed into its per-booking events
    and publish them now, rather than at its next scheduled run; answers whether Lambda accepted the request.

    Never raises; without OUTBOX_PUBLISHER_FUNCTION_NAME (local runs, tests) nothing is woken.
    """
    from ticketing.wake import wake_function

    payload = {"source": "ticketing", "detail-type": EXPANSION_QUEUED, "detail": {"eventId": str(event_id)}}
    return wake_function(
        get_settings().outbox_publisher_function_name,
        payload,
        missed="the scheduled outbox sweep will expand and publish the event's booking events",
    )
