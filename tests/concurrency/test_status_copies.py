"""A booking's status change and a write of its status copy, in two transactions at once, serialise: the copy
never ends up different from its booking (docs/booking-lifecycle.md, "Invariants the database enforces")."""

from __future__ import annotations

from typing import Any

from tests.concurrency.two_sessions import commit_while_blocked, connect


def _pending_booking(db: Any, event: Any) -> str:
    booking = db.value(
        "INSERT INTO bookings (user_id, event_id, status, subtotal, total, currency, expires_at)"
        " VALUES (:user, :event, 'PENDING', 0, 0, 'EUR', now() + interval '15 minutes') RETURNING id",
        user=event.organizer_id,
        event=event.id,
    )
    return str(booking)


def test_an_item_written_while_its_booking_ends_is_refused_once_the_end_commits(db: Any, catalog: Any) -> None:
    event = catalog.event()
    booking = _pending_booking(db, event)
    ender, writer = connect(), connect()
    try:
        ender.run("BEGIN")
        ender.run("UPDATE bookings SET status = 'EXPIRED', expired_at = now() WHERE id = :id", id=booking)

        failure = commit_while_blocked(
            db,
            ender,
            writer,
            lambda session: session.run(
                "INSERT INTO booking_items (booking_id, booking_status, event_seat_id, price)"
                " VALUES (:booking, 'PENDING', :seat, 0)",
                booking=booking,
                seat=event.seat_ids[0],
            ),
        )
    finally:
        ender.close()
        writer.close()

    assert failure is not None
    assert failure["C"] == "23503"
    assert db.value("SELECT count(*) FROM booking_items") == 0
