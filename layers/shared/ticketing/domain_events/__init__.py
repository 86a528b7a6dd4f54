"""Domain events (BookingConfirmed, BookingCancelled, BookingExpired, EventCancelled, TicketCheckedIn,
TicketTransferred) via the outbox.

`record` writes the event in the caller's transaction. After that transaction commits, the caller runs
`publish_after_commit()`, which sends fresh events to EventBridge; the outbox publisher function sweeps
up every minute whatever that could not send. A publishing failure never undoes the committed change.

On the bus an event is `source: "ticketing"`, `detail-type: <event type>`, `detail: <payload>`.
"""

from __future__ import annotations

from typing import Any

from ticketing.config import get_settings
from ticketing.db import Session
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


def record(tx: Session, *, event_type: str, payload: dict[str, Any]) -> None:
    repository.insert(tx, event_type=event_type, payload=payload)


def record_many(tx: Session, *, event_type: str, payloads: list[dict[str, Any]]) -> None:
    """Records one event per payload in a single statement (a check-in batch admits up to 500 tickets)."""
    if payloads:
        repository.insert_many(tx, event_type=event_type, payloads=payloads)


def publish_after_commit() -> int:
    """Publishes the events just recorded; call it after the recording transaction committed.

    Safe anywhere: a no-op without EVENT_BUS_NAME (local runs, tests) and it never raises, because the
    change is already committed and the sweep retries whatever is left. Answers how many were published.
    """
    if not get_settings().event_bus_name:
        return 0
    # Imported here: only deployed functions that publish load boto3.
    from ticketing.domain_events.publisher import publish_fresh

    return publish_fresh()
