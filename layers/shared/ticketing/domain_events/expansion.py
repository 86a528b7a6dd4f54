"""Expands an event cancellation's one outbox row into its per-booking BookingCancelled events (and the VOID of
its tickets).

An event cancellation records one EventCancelled outbox row marked `expand_bookings` instead of one row per
booking (docs/refunds.md): at stadium size those rows are the cancelling transaction's biggest insert. The
outbox publisher, woken right after that commit (or at its next scheduled run), writes the per-booking rows and
clears the mark in one transaction of its own, so the expansion happens exactly once whatever fails before or
after it; publishing then takes all of them in its usual bounded batches.
"""

from __future__ import annotations

from uuid import UUID

from ticketing.db import transaction
from ticketing.domain_events import repository


def expand_next() -> int | None:
    """Expands the oldest event cancellation not yet expanded, in its own transaction, and answers how many
    booking events it wrote; None when none waits. One being expanded by another publisher is skipped, not
    awaited (that one is committing it)."""
    with transaction() as tx:
        claimed = repository.claim_expansions(tx, limit=1)
        if not claimed:
            return None
        # Imported here: the publisher loads the booking code only when there is something to expand.
        from ticketing.bookings.event_cancellation import finish_cancelled_event

        row = claimed[0]
        written = finish_cancelled_event(tx, UUID(str(row["payload"]["eventId"])))
        repository.mark_expanded(tx, row["id"])
        return written
