"""The events' invariants (docs/operations.md, "Invariant check"): a cancellation is announced."""

from __future__ import annotations

from ticketing.db.invariants import Invariant

CANCELLATION_EVENT_RECORDED = Invariant(
    "catalog.events.cancellation_event_recorded",
    "every CANCELLED event has its EventCancelled domain event in the outbox (published or queued)",
    "SELECT e.id AS event_id, e.cancelled_at FROM events e WHERE e.status = 'CANCELLED' AND NOT EXISTS ("
    " SELECT 1 FROM outbox_events o WHERE o.event_type = 'EventCancelled'"
    " AND o.payload->>'eventId' = CAST(e.id AS text))",
)

INVARIANTS = (CANCELLATION_EVENT_RECORDED,)
