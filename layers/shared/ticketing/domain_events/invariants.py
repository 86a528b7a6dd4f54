"""The outbox's invariants (docs/operations.md, "Invariant check"): an event leaves only whole. Whether each
committed change recorded its event is its owner's invariant (bookings, catalog.events)."""

from __future__ import annotations

from ticketing.db.invariants import Invariant

PUBLISHED_AFTER_EXPANSION = Invariant(
    "domain_events.published_after_expansion",
    "no event is published while its per-booking events are still to be written",
    "SELECT id AS outbox_id, event_type, published_at FROM outbox_events"
    " WHERE published_at IS NOT NULL AND expand_bookings",
)

INVARIANTS = (PUBLISHED_AFTER_EXPANSION,)
