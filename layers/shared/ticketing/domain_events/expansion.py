"""Expands an event cancellation's one outbox row into its per-booking BookingCancelled events (and the VOID of
its tickets).

An event cancellation records one EventCancelled outbox row marked `expand_bookings` instead of one row per
booking (docs/refunds.md): at stadium size those rows are the cancelling transaction's biggest insert. The
outbox publisher, woken right after that commit (or at its next scheduled run), writes the per-booking rows and
clears the mark in one transaction of its own, so the expansion happens exactly once whatever fails before or
after it; publishing then takes all of them in its usual bounded batches.

What an expansion writes belongs to the event's owner, not to the outbox: the caller passes `expander_for`,
which answers the owner's expansion for an event type (the outbox publisher's function wires the bookings'),
so this package imports no aggregate.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ticketing.db import Session, transaction
from ticketing.domain_events import repository

# Writes, in the publisher's transaction, what one outbox row stands for; answers how many events it wrote.
Expander = Callable[[Session, Mapping[str, Any]], int]


def expand_next(expander_for: Callable[[str], Expander]) -> int | None:
    """Expands the oldest event cancellation not yet expanded, in its own transaction, and answers how many
    booking events it wrote; None when none waits. One being expanded by another publisher is skipped, not
    awaited (that one is committing it)."""
    with transaction() as tx:
        claimed = repository.claim_expansions(tx, limit=1)
        if not claimed:
            return None
        row = claimed[0]
        written = expander_for(row["event_type"])(tx, row["payload"])
        repository.mark_expanded(tx, row["id"])
        return written
