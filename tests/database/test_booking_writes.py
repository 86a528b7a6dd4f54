"""How closing a booking writes (migration 0014, docs/decisions.md "Fewer index writes per seat, notification
and ticket code"): the cancel of a CONFIRMED booking touches no index, so an event cancellation's 50,000 of them
are heap-only updates."""

from __future__ import annotations

from typing import Any

from ticketing.bookings import repository
from ticketing.db import transaction
from ticketing.db.id_set import IdSet

# This session's updates of bookings, all and heap-only, not yet reported to the statistics (read as a
# difference within one transaction: reports happen between transactions).
_UPDATES = (
    "SELECT pg_stat_get_xact_tuples_updated(CAST('bookings' AS regclass)) AS updated,"
    " pg_stat_get_xact_tuples_hot_updated(CAST('bookings' AS regclass)) AS heap_only"
)


def _booking(db: Any, event: Any, status: str) -> str:
    booking = db.value(
        "INSERT INTO bookings (user_id, event_id, status, subtotal, total, currency, expires_at, confirmed_at)"
        " VALUES (:user, :event, :status, 0, 0, 'EUR', now() + interval '15 minutes',"
        "         CASE WHEN :status = 'CONFIRMED' THEN now() END) RETURNING id",
        user=event.organizer_id,
        event=event.id,
        status=status,
    )
    return str(booking)


def test_cancelling_a_confirmed_booking_is_a_heap_only_update(db: Any, catalog: Any) -> None:
    # Given a CONFIRMED booking
    booking = _booking(db, catalog.event(), "CONFIRMED")

    # When the closing statement cancels it
    with transaction() as tx:
        before = tx.row(_UPDATES)
        closed = repository.close_bookings(tx, IdSet.of([booking]), status="CANCELLED", reason="Event cancelled")
        after = tx.row(_UPDATES)

    # Then its new version went next to the old one, without an index entry
    assert closed == 1
    assert before is not None
    assert after is not None
    assert (after["updated"] - before["updated"], after["heap_only"] - before["heap_only"]) == (1, 1)
    assert db.value("SELECT status FROM bookings WHERE id = :id", id=booking) == "CANCELLED"


def test_a_pending_booking_leaves_the_expiry_queue_when_it_ends(db: Any, catalog: Any) -> None:
    # Given a PENDING booking, in the expiry queue until it expires
    booking = _booking(db, catalog.event(), "PENDING")
    assert db.value("SELECT payable_until = expires_at FROM bookings WHERE id = :id", id=booking) is True

    # When it is cancelled
    with transaction() as tx:
        repository.close_bookings(tx, IdSet.of([booking]), status="CANCELLED", reason=None)

    # Then the queue no longer holds it
    assert db.value("SELECT payable_until FROM bookings WHERE id = :id", id=booking) is None
