"""Cancelling an event (docs/booking-lifecycle.md): what an event's cancellation does to its holds and bookings."""

from __future__ import annotations

import uuid
from typing import Any


def test_cancelling_an_event_cancels_its_bookings_refunds_payments_and_tells_every_buyer(
    shop: Any, accounts: Any, catalog: Any, db: Any
) -> None:
    organizer = accounts.create("ORGANIZER")
    event = catalog.event(organizer_id=organizer.id)
    pending_buyer, paying_buyer, holder = accounts.create(), accounts.create(), accounts.create()
    pending = shop.pending_booking(pending_buyer, event, event.seat_ids[:2])
    paid = shop.confirmed_booking(paying_buyer, event, event.seat_ids[2:3])
    shop.hold(holder, event.id, event.seat_ids[3:4])

    response = shop.api.post(f"/api/events/{event.id}/cancel", token=organizer.token)

    assert response.status == 200, response.body
    statuses = {row["id"]: row["status"] for row in db.rows("SELECT id::text, status FROM bookings")}
    assert statuses == {pending["id"]: "CANCELLED", paid["id"]: "CANCELLED"}
    assert db.value("SELECT status FROM payments WHERE booking_id = :b", b=paid["id"]) == "REFUNDED"
    assert db.value("SELECT count(*) FROM event_seats WHERE status <> 'AVAILABLE' AND event_id = :e", e=event.id) == 0
    notified = db.rows("SELECT user_id::text AS user_id FROM notifications WHERE type = 'EVENT_CANCELLED' ORDER BY 1")
    assert notified == sorted([{"user_id": pending_buyer.id}, {"user_id": paying_buyer.id}], key=lambda r: r["user_id"])
    assert db.value("SELECT count(*) FROM outbox_events WHERE event_type = 'BookingCancelled'") == 2
    shown = shop.api.get(f"/api/bookings/{paid['id']}", token=paying_buyer.token).json()
    assert (shown["status"], shown["payment"]["status"]) == ("CANCELLED", "REFUNDED")


def test_cancelling_an_event_twice_changes_nothing_more(shop: Any, accounts: Any, catalog: Any, db: Any) -> None:
    organizer = accounts.create("ORGANIZER")
    event = catalog.event(organizer_id=organizer.id)
    shop.confirmed_booking(accounts.create(), event, event.seat_ids[:1])
    assert shop.api.post(f"/api/events/{event.id}/cancel", token=organizer.token).status == 200

    again = shop.api.post(f"/api/events/{event.id}/cancel", token=organizer.token)

    assert again.status == 200
    assert db.value("SELECT count(*) FROM notifications WHERE type = 'EVENT_CANCELLED'") == 1
    assert db.value("SELECT version FROM bookings") == 3


def test_cancel_event_bookings_works_in_batches_and_answers_how_many(
    shop: Any, accounts: Any, catalog: Any, db: Any, monkeypatch: Any
) -> None:
    from ticketing.bookings import event_cancellation

    monkeypatch.setattr(event_cancellation, "BOOKINGS_PER_BATCH", 2)
    event = catalog.event()
    buyers = [accounts.create() for _ in range(5)]
    for buyer, seat_id in zip(buyers, event.seat_ids, strict=False):
        shop.pending_booking(buyer, event, [seat_id])
    db.execute("UPDATE events SET status = 'CANCELLED', cancelled_at = now() WHERE id = :e", e=event.id)

    cancelled = event_cancellation.cancel_event_bookings(uuid.UUID(event.id))

    assert cancelled == 5
    assert db.value("SELECT count(*) FROM bookings WHERE status = 'CANCELLED'") == 5
    assert event_cancellation.cancel_event_bookings(uuid.UUID(event.id)) == 0
