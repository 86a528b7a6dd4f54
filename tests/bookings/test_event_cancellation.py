"""Cancelling an event: one transaction whatever the number of bookings; refunds queued, then sent by workers
(docs/booking-lifecycle.md, docs/refunds.md)."""

from __future__ import annotations

from typing import Any


def _cancel(shop: Any, organizer: Any, event_id: str) -> Any:
    return shop.api.post(f"/api/events/{event_id}/cancel", token=organizer.token)


def test_cancelling_an_event_cancels_everything_in_its_transaction_and_queues_the_refunds(
    shop: Any, accounts: Any, catalog: Any, db: Any
) -> None:
    organizer = accounts.create("ORGANIZER")
    event = catalog.event(organizer_id=organizer.id)
    pending_buyer, paying_buyer, holder = accounts.create(), accounts.create(), accounts.create()
    pending = shop.pending_booking(pending_buyer, event, event.seat_ids[:2])
    paid = shop.confirmed_booking(paying_buyer, event, event.seat_ids[2:3])
    assert shop.hold(holder, event.id, event.seat_ids[3:4]).status == 200

    response = _cancel(shop, organizer, event.id)

    assert response.status == 200, response.body
    body = response.json()
    assert body["status"] == "CANCELLED"
    assert body["cancellation"] == {"bookings": 2, "refundsPending": 1, "refundsFailed": 0}
    bookings = {row["id"]: row for row in db.rows("SELECT id::text, status, version FROM bookings")}
    assert {key: (row["status"], row["version"]) for key, row in bookings.items()} == {
        pending["id"]: ("CANCELLED", 2),
        paid["id"]: ("CANCELLED", 3),
    }
    assert db.value("SELECT status FROM payments WHERE booking_id = :b", b=paid["id"]) == "REFUND_PENDING"
    assert db.value("SELECT count(*) FROM test_provider_refunds") == 0  # nothing sent inside the cancel
    assert db.value("SELECT count(*) FROM event_seats WHERE status <> 'AVAILABLE' AND event_id = :e", e=event.id) == 0
    notified = db.rows(
        "SELECT user_id::text AS user_id, data ->> 'bookingId' AS booking_id, data ->> 'eventId' AS event_id"
        " FROM notifications WHERE type = 'EVENT_CANCELLED' ORDER BY 1"
    )
    assert notified == sorted(
        [
            {"user_id": pending_buyer.id, "booking_id": pending["id"], "event_id": event.id},
            {"user_id": paying_buyer.id, "booking_id": paid["id"], "event_id": event.id},
        ],
        key=lambda row: row["user_id"],
    )
    outbox = db.rows(
        "SELECT event_type, payload, expand_bookings FROM outbox_events WHERE event_type <> 'BookingConfirmed'"
    )
    assert outbox == [  # one row whatever the number of bookings; their own events are written after commit
        {
            "event_type": "EventCancelled",
            "payload": {"eventId": event.id, "releasedHolds": 1, "bookings": 2, "refundsQueued": 1},
            "expand_bookings": True,
        }
    ]
    shown = shop.api.get(f"/api/bookings/{paid['id']}", token=paying_buyer.token).json()
    assert (shown["status"], shown["payment"]["status"]) == ("CANCELLED", "REFUND_PENDING")


def test_the_buyers_notification_names_the_booking_and_the_event(
    shop: Any, accounts: Any, catalog: Any, db: Any
) -> None:
    organizer = accounts.create("ORGANIZER")
    event = catalog.event(organizer_id=organizer.id)
    buyer = accounts.create()
    booking = shop.confirmed_booking(buyer, event, event.seat_ids[:1])
    assert _cancel(shop, organizer, event.id).status == 200

    listed = shop.api.get("/api/users/notifications", token=buyer.token).json()["items"]

    cancelled = [item for item in listed if item["type"] == "EVENT_CANCELLED"]
    assert [(item["bookingId"], item["eventId"]) for item in cancelled] == [(booking["id"], event.id)]


def test_a_buyer_with_several_bookings_is_told_once(shop: Any, accounts: Any, catalog: Any, db: Any) -> None:
    organizer = accounts.create("ORGANIZER")
    event = catalog.event(organizer_id=organizer.id)
    buyer = accounts.create()
    shop.confirmed_booking(buyer, event, event.seat_ids[:1])
    shop.confirmed_booking(buyer, event, event.seat_ids[1:2])

    body = _cancel(shop, organizer, event.id).json()

    assert body["cancellation"] == {"bookings": 2, "refundsPending": 2, "refundsFailed": 0}
    assert db.value("SELECT count(*) FROM notifications WHERE type = 'EVENT_CANCELLED'") == 1


def test_cancelling_gives_the_coupons_back(shop: Any, accounts: Any, catalog: Any, db: Any) -> None:
    organizer = accounts.create("ORGANIZER")
    event = catalog.event(organizer_id=organizer.id)
    db.execute(
        "INSERT INTO coupons (code, type, value, event_id, max_redemptions, created_by)"
        " VALUES ('RAIN10', 'PERCENT', 10, :event, 5, :organizer)",
        event=event.id,
        organizer=organizer.id,
    )
    for seat_id in event.seat_ids[:2]:
        shop.pending_booking(accounts.create(), event, [seat_id], couponCode="RAIN10")
    assert db.value("SELECT redeemed_count FROM coupons") == 2

    assert _cancel(shop, organizer, event.id).status == 200

    assert db.value("SELECT redeemed_count FROM coupons") == 0
    assert db.value("SELECT count(*) FROM coupon_redemptions WHERE released_at IS NULL") == 0


def test_the_organizer_follows_the_refunds_on_the_event_and_the_public_does_not_see_them(
    shop: Any, accounts: Any, catalog: Any, db: Any
) -> None:
    from ticketing.refunds import worker

    organizer = accounts.create("ORGANIZER")
    event = catalog.event(organizer_id=organizer.id)
    for seat_id in event.seat_ids[:3]:
        shop.confirmed_booking(accounts.create(), event, [seat_id])
    assert _cancel(shop, organizer, event.id).json()["cancellation"]["refundsPending"] == 3

    report = worker.run_round()

    assert report.refunded == 3
    seen = shop.api.get(f"/api/events/{event.id}", token=organizer.token).json()
    assert seen["cancellation"] == {"bookings": 3, "refundsPending": 0, "refundsFailed": 0}
    assert shop.api.get(f"/api/events/{event.id}").json()["cancellation"] is None
    assert db.value("SELECT count(*) FROM payments WHERE status = 'REFUNDED'") == 3


def test_cancelling_an_event_twice_changes_nothing_more(shop: Any, accounts: Any, catalog: Any, db: Any) -> None:
    organizer = accounts.create("ORGANIZER")
    event = catalog.event(organizer_id=organizer.id)
    shop.confirmed_booking(accounts.create(), event, event.seat_ids[:1])
    first = _cancel(shop, organizer, event.id)
    assert first.status == 200

    again = _cancel(shop, organizer, event.id)

    assert again.status == 200
    assert again.json() == first.json()
    assert db.value("SELECT count(*) FROM notifications WHERE type = 'EVENT_CANCELLED'") == 1
    assert db.value("SELECT count(*) FROM outbox_events") == 2  # BookingConfirmed, EventCancelled
    assert db.value("SELECT version FROM bookings") == 3


def test_the_cancel_runs_the_same_statements_for_one_booking_or_many(
    shop: Any, accounts: Any, catalog: Any, db: Any, statements: list[str]
) -> None:
    organizer = accounts.create("ORGANIZER")
    small, large = catalog.event(organizer_id=organizer.id), catalog.event(organizer_id=organizer.id)
    shop.confirmed_booking(accounts.create(), small, small.seat_ids[:1])
    for seat_id in large.seat_ids[:6]:
        shop.confirmed_booking(accounts.create(), large, [seat_id])
    statements.clear()

    assert _cancel(shop, organizer, small.id).json()["cancellation"]["bookings"] == 1
    for_one = len(statements)
    statements.clear()
    assert _cancel(shop, organizer, large.id).json()["cancellation"]["bookings"] == 6
    for_six = len(statements)

    assert for_one == for_six


def _booking_cancelled_payloads(db: Any) -> list[dict[str, Any]]:
    return [
        row["payload"]
        for row in db.rows(
            "SELECT payload FROM outbox_events WHERE event_type = 'BookingCancelled' ORDER BY payload ->> 'bookingId'"
        )
    ]


def _cancelled_with_event(booking: dict[str, Any], owner: Any, event_id: str) -> dict[str, Any]:
    """The BookingCancelled payload of a booking the event's cancellation ended (docs/refunds.md)."""
    return {
        "bookingId": booking["id"],
        "userId": owner.id,
        "eventId": event_id,
        "status": "CANCELLED",
        "total": booking["total"],
        "currency": booking["currency"],
        "reason": "Event cancelled",
    }


def test_the_expansion_writes_one_booking_cancelled_event_per_booking_the_cancellation_ended(
    shop: Any, accounts: Any, catalog: Any, db: Any
) -> None:
    from ticketing.bookings.event_cancellation import expander_for
    from ticketing.domain_events.expansion import expand_next

    # Given an event with a PENDING and a CONFIRMED booking, and one the customer cancelled earlier giving the
    # same reason as free text, cancelled by its organizer
    organizer = accounts.create("ORGANIZER")
    event = catalog.event(organizer_id=organizer.id)
    buyer, paying_buyer, early_canceller = accounts.create(), accounts.create(), accounts.create()
    pending = shop.pending_booking(buyer, event, event.seat_ids[:2])
    paid = shop.confirmed_booking(paying_buyer, event, event.seat_ids[2:3])
    early = shop.confirmed_booking(early_canceller, event, event.seat_ids[3:4])
    cancelled_early = shop.cancel(early_canceller, early["id"], {"reason": "Event cancelled"})
    assert cancelled_early.status == 200, cancelled_early.body
    assert len(_booking_cancelled_payloads(db)) == 1  # the customer cancel wrote its own, in its transaction
    assert _cancel(shop, organizer, event.id).status == 200

    # When the publisher expands the cancellation
    written = expand_next(expander_for)

    # Then each booking the cancellation ended has exactly one event, the early one still only its own
    assert written == 2
    expected = [_cancelled_with_event(pending, buyer, event.id), _cancelled_with_event(paid, paying_buyer, event.id)]
    expected.append(_cancelled_with_event(early, early_canceller, event.id))
    assert _booking_cancelled_payloads(db) == sorted(expected, key=lambda payload: payload["bookingId"])
    assert db.value("SELECT expand_bookings FROM outbox_events WHERE event_type = 'EventCancelled'") is False


def test_an_event_cancellation_is_expanded_once(shop: Any, accounts: Any, catalog: Any, db: Any) -> None:
    from ticketing.bookings.event_cancellation import expander_for
    from ticketing.domain_events.expansion import expand_next

    organizer = accounts.create("ORGANIZER")
    event = catalog.event(organizer_id=organizer.id)
    shop.confirmed_booking(accounts.create(), event, event.seat_ids[:1])
    assert _cancel(shop, organizer, event.id).status == 200
    assert expand_next(expander_for) == 1

    again = expand_next(expander_for)

    assert again is None
    assert len(_booking_cancelled_payloads(db)) == 1


def test_a_publisher_skips_an_expansion_another_publisher_is_writing_and_none_is_lost(
    shop: Any, accounts: Any, catalog: Any, db: Any, row_locker: Any
) -> None:
    from ticketing.bookings.event_cancellation import expander_for
    from ticketing.domain_events.expansion import expand_next

    # Given a cancelled event whose expansion another publisher has claimed (its row lock, uncommitted)
    organizer = accounts.create("ORGANIZER")
    event = catalog.event(organizer_id=organizer.id)
    for seat_id in event.seat_ids[:3]:
        shop.confirmed_booking(accounts.create(), event, [seat_id])
    assert _cancel(shop, organizer, event.id).status == 200
    row_locker.lock("SELECT id FROM outbox_events WHERE expand_bookings FOR UPDATE")

    # When a second publisher looks for expansions: it skips that row instead of waiting or writing it too
    assert expand_next(expander_for) is None
    assert _booking_cancelled_payloads(db) == []

    # And when the first publisher dies before committing, the next run writes the events, once
    row_locker.release()
    assert expand_next(expander_for) == 3
    assert expand_next(expander_for) is None
    assert len(_booking_cancelled_payloads(db)) == 3


def test_an_event_without_bookings_has_nothing_to_expand(shop: Any, accounts: Any, catalog: Any, db: Any) -> None:
    from ticketing.bookings.event_cancellation import expander_for
    from ticketing.domain_events.expansion import expand_next

    organizer = accounts.create("ORGANIZER")
    event = catalog.event(organizer_id=organizer.id)

    assert _cancel(shop, organizer, event.id).status == 200

    assert db.value("SELECT expand_bookings FROM outbox_events WHERE event_type = 'EventCancelled'") is False
    assert expand_next(expander_for) is None


def test_two_publishers_racing_expand_a_cancellation_once(shop: Any, accounts: Any, catalog: Any, db: Any) -> None:
    from concurrent.futures import ThreadPoolExecutor
    from threading import Barrier

    from ticketing.bookings.event_cancellation import expander_for
    from ticketing.db.connection import close_connection
    from ticketing.domain_events.expansion import expand_next

    organizer = accounts.create("ORGANIZER")
    event = catalog.event(organizer_id=organizer.id)
    for seat_id in event.seat_ids[:4]:
        shop.confirmed_booking(accounts.create(), event, [seat_id])
    assert _cancel(shop, organizer, event.id).status == 200
    start = Barrier(2)

    def publisher() -> int | None:
        start.wait(timeout=30)
        try:
            return expand_next(expander_for)  # each thread is its own database session
        finally:
            close_connection()

    with ThreadPoolExecutor(max_workers=2) as publishers:
        results = [future.result() for future in [publishers.submit(publisher) for _ in range(2)]]

    assert sorted(results, key=lambda written: written or 0) == [None, 4]
    assert len(_booking_cancelled_payloads(db)) == 4
