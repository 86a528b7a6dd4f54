"""The invariants of docs/booking-lifecycle.md hold in the database itself, whatever the code does."""

from __future__ import annotations

from typing import Any

import pytest
from pg8000.exceptions import DatabaseError

from ticketing.db import transaction
from ticketing.errors import Conflict


def _insert_booking_with_item(db: Any, event: Any, user_id: str, *, status: str, subtotal: int) -> str:
    with transaction() as tx:
        booking_id = tx.value(
            "INSERT INTO bookings (user_id, event_id, status, subtotal, total, currency, expires_at, confirmed_at)"
            " VALUES (:user, :event, :status, :subtotal, :subtotal, 'EUR', now() + interval '15 minutes',"
            " CASE WHEN :status = 'CONFIRMED' THEN now() END) RETURNING id",
            user=user_id,
            event=event.id,
            status=status,
            subtotal=subtotal,
        )
        tx.execute(
            "INSERT INTO booking_items (booking_id, booking_status, event_seat_id, price)"
            " VALUES (:booking, :status, :seat, :price)",
            booking=booking_id,
            status=status,
            seat=event.seat_ids[0],
            price=subtotal,
        )
    return str(booking_id)


def _violation(db: Any, sql: str, **params: Any) -> str:
    with pytest.raises(DatabaseError) as raised, transaction() as tx:
        tx.execute(sql, **params)
    return str(raised.value.args[0]["C"])


def test_a_seat_cannot_be_in_two_live_bookings(db: Any, catalog: Any, accounts: Any) -> None:
    event = catalog.event()
    _insert_booking_with_item(db, event, event.organizer_id, status="PENDING", subtotal=2500)

    with pytest.raises(Conflict) as raised:
        _insert_booking_with_item(db, event, accounts.create().id, status="PENDING", subtotal=2500)

    assert raised.value.code == "SEATS_UNAVAILABLE"
    assert db.value("SELECT count(*) FROM bookings") == 1


def test_a_cancelled_booking_frees_its_seat_for_another_booking(db: Any, catalog: Any, accounts: Any) -> None:
    event = catalog.event()
    first = _insert_booking_with_item(db, event, event.organizer_id, status="PENDING", subtotal=2500)
    db.execute("UPDATE bookings SET status = 'CANCELLED', cancelled_at = now() WHERE id = :id", id=first)

    _insert_booking_with_item(db, event, accounts.create().id, status="PENDING", subtotal=2500)

    assert db.value("SELECT count(*) FROM booking_items WHERE booking_status = 'PENDING'") == 1


def test_a_booked_seat_needs_a_confirmed_booking(db: Any, catalog: Any) -> None:
    event = catalog.event()
    booking = _insert_booking_with_item(db, event, event.organizer_id, status="PENDING", subtotal=2500)

    code = _violation(
        db,
        "UPDATE event_seats SET status = 'BOOKED', booking_id = :booking, booking_status = 'PENDING' WHERE id = :seat",
        booking=booking,
        seat=event.seat_ids[0],
    )

    assert code == "23514"


def test_a_held_seat_needs_a_holder_and_an_expiry(db: Any, catalog: Any) -> None:
    event = catalog.event()

    code = _violation(db, "UPDATE event_seats SET status = 'HELD' WHERE id = :seat", seat=event.seat_ids[0])

    assert code == "23514"


def test_a_seat_cannot_point_at_a_dead_booking(db: Any, catalog: Any) -> None:
    event = catalog.event()
    booking = _insert_booking_with_item(db, event, event.organizer_id, status="PENDING", subtotal=2500)
    db.execute(
        "UPDATE event_seats SET status = 'HELD', held_by = :user, held_until = now() + interval '1 minute',"
        " booking_id = :booking, booking_status = 'PENDING' WHERE id = :seat",
        user=event.organizer_id,
        booking=booking,
        seat=event.seat_ids[0],
    )

    code = _violation(db, "UPDATE bookings SET status = 'EXPIRED' WHERE id = :id", id=booking)

    assert code == "23514"


def test_a_total_must_equal_subtotal_minus_discount(db: Any, catalog: Any) -> None:
    event = catalog.event()
    booking = _insert_booking_with_item(db, event, event.organizer_id, status="PENDING", subtotal=2500)

    assert _violation(db, "UPDATE bookings SET discount = 500 WHERE id = :id", id=booking) == "23514"
    assert _violation(db, "UPDATE bookings SET discount = 3000, total = -500 WHERE id = :id", id=booking) == "23514"


def test_a_subtotal_must_equal_the_sum_of_its_items(db: Any, catalog: Any) -> None:
    event = catalog.event()
    booking = _insert_booking_with_item(db, event, event.organizer_id, status="PENDING", subtotal=2500)

    code = _violation(db, "UPDATE bookings SET subtotal = 9999, total = 9999 WHERE id = :id", id=booking)

    assert code == "23514"


def test_a_coupon_cannot_be_redeemed_past_its_limit(db: Any, accounts: Any) -> None:
    admin = accounts.create("ADMIN")
    coupon = db.value(
        "INSERT INTO coupons (code, type, value, max_redemptions, redeemed_count, created_by)"
        " VALUES ('LIMITED', 'PERCENT', 10, 1, 1, :admin) RETURNING id",
        admin=admin.id,
    )

    code = _violation(db, "UPDATE coupons SET redeemed_count = redeemed_count + 1 WHERE id = :id", id=coupon)

    assert code == "23514"


def test_an_item_must_carry_its_bookings_status(db: Any, catalog: Any) -> None:
    event = catalog.event()
    booking = _insert_booking_with_item(db, event, event.organizer_id, status="PENDING", subtotal=2500)

    code = _violation(db, "UPDATE booking_items SET booking_status = 'CONFIRMED' WHERE booking_id = :id", id=booking)

    assert code == "23503"
    assert db.value("SELECT booking_status FROM booking_items WHERE booking_id = :id", id=booking) == "PENDING"


def test_a_seat_must_carry_its_bookings_status(db: Any, catalog: Any) -> None:
    event = catalog.event()
    booking = _insert_booking_with_item(db, event, event.organizer_id, status="PENDING", subtotal=2500)

    code = _violation(
        db,
        "UPDATE event_seats SET status = 'BOOKED', booking_id = :booking, booking_status = 'CONFIRMED'"
        " WHERE id = :seat",
        booking=booking,
        seat=event.seat_ids[0],
    )

    assert code == "23503"
    assert db.value("SELECT booking_id FROM event_seats WHERE id = :seat", seat=event.seat_ids[0]) is None


def test_a_status_change_reaches_the_items_and_seats_of_every_booking_in_the_statement(
    db: Any, catalog: Any, accounts: Any
) -> None:
    first, second = catalog.event(), catalog.event()
    bookings = [
        _insert_booking_with_item(db, first, first.organizer_id, status="PENDING", subtotal=2500),
        _insert_booking_with_item(db, second, accounts.create().id, status="PENDING", subtotal=2500),
    ]
    for event, booking in zip((first, second), bookings, strict=True):
        db.execute(
            "UPDATE event_seats SET status = 'HELD', held_by = :user, held_until = now() + interval '1 minute',"
            " booking_id = :booking, booking_status = 'PENDING' WHERE id = :seat",
            user=first.organizer_id,
            booking=booking,
            seat=event.seat_ids[0],
        )

    db.execute(
        "UPDATE bookings SET status = 'CONFIRMED', confirmed_at = now() WHERE id = ANY(CAST(:ids AS uuid[]))",
        ids="{" + ",".join(bookings) + "}",
    )

    assert db.value("SELECT count(*) FROM booking_items WHERE booking_status = 'CONFIRMED'") == 2
    assert db.value("SELECT count(*) FROM event_seats WHERE booking_status = 'CONFIRMED'") == 2


def test_a_status_change_outside_read_committed_is_refused(db: Any, catalog: Any) -> None:
    event = catalog.event()
    booking = _insert_booking_with_item(db, event, event.organizer_id, status="PENDING", subtotal=2500)

    def cancel_at_repeatable_read() -> None:
        with transaction() as tx:
            tx.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            tx.execute("UPDATE bookings SET status = 'CANCELLED', cancelled_at = now() WHERE id = :id", id=booking)

    with pytest.raises(DatabaseError) as raised:
        cancel_at_repeatable_read()

    assert raised.value.args[0]["C"] == "0A000"
    assert db.value("SELECT booking_status FROM booking_items WHERE booking_id = :id", id=booking) == "PENDING"


def test_a_notification_must_name_an_existing_user(db: Any, accounts: Any) -> None:
    user = accounts.create()
    unknown = "00000000-0000-4000-8000-000000000000"

    code = _violation(
        db,
        "INSERT INTO notifications (user_id, type, title, body)"
        " VALUES (:known, 'T', 't', 'b'), (:unknown, 'T', 't', 'b')",
        known=user.id,
        unknown=unknown,
    )

    assert code == "23503"
    assert db.value("SELECT count(*) FROM notifications") == 0


def test_deleting_a_user_deletes_their_notifications(db: Any, accounts: Any) -> None:
    leaving, staying = accounts.create(), accounts.create()
    for user in (leaving, staying):
        db.execute("INSERT INTO notifications (user_id, type, title, body) VALUES (:u, 'T', 't', 'b')", u=user.id)

    db.execute("DELETE FROM users WHERE id = :id", id=leaving.id)

    assert db.rows("SELECT user_id::text FROM notifications") == [{"user_id": staying.id}]


def test_every_key_to_users_is_classified_as_the_callers_or_not(db: Any) -> None:
    """A new foreign key to users must be added to CALLER_ACCOUNT_KEYS (a deleted caller is then a 401) or here."""
    from ticketing.db.errors import CALLER_ACCOUNT_KEYS

    not_the_caller = {
        "refresh_tokens_user_id_fkey",  # ON DELETE CASCADE; written only at sign-in, after the user was read
        "tickets_holder_id_fkey",  # a transfer's recipient, looked up before the write
    }

    keys = db.value("SELECT array_agg(conname::text) FROM pg_constraint WHERE confrelid = CAST('users' AS regclass)")

    assert set(keys) == CALLER_ACCOUNT_KEYS | not_the_caller
