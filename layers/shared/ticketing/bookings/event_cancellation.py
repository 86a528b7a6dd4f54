"""What happens to bookings when an event is cancelled (see docs/booking-lifecycle.md).

Called after the event's status change to CANCELLED has committed: from then on no hold, booking or confirm
for the event can succeed (create and confirm read the event under FOR SHARE, so any still in flight finished
before the status change could commit). Bookings are locked in id order, waiting for a confirm in flight,
in batches of BOOKINGS_PER_BATCH per transaction.
"""

from __future__ import annotations

from uuid import UUID

from ticketing.bookings import repository as repo
from ticketing.bookings.closing import CANCELLED, CANCELLED_WITH_EVENT, close_bookings
from ticketing.db import transaction
from ticketing.observability import count

BOOKINGS_PER_BATCH = 100
REASON = "Event cancelled"


def cancel_event_bookings(event_id: UUID) -> int:
    """Releases the event's holds, cancels its PENDING and CONFIRMED bookings (refunding payments, returning
    coupons, notifying each user) and answers how many bookings it cancelled. Running it again is a no-op."""
    with transaction() as tx:
        repo.release_event_holds(tx, event_id)
    cancelled = 0
    while True:
        with transaction() as tx:
            bookings = repo.lock_live_bookings_of_event(tx, event_id, BOOKINGS_PER_BATCH)
            if bookings:
                close_bookings(tx, bookings, status=CANCELLED, reason=REASON, notice=CANCELLED_WITH_EVENT)
        cancelled += len(bookings)
        if len(bookings) < BOOKINGS_PER_BATCH:
            break
    count("BookingsCancelled", cancelled)
    return cancelled
