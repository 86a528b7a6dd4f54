"""Bookings (docs/booking-lifecycle.md): create, get, list and cancel bookings."""

from __future__ import annotations

import uuid
from typing import Any


def _coupon(db: Any, created_by: str, *, code: str = "SAVE10", value: int = 10, max_redemptions: int = 5) -> str:
    return str(
        db.value(
            "INSERT INTO coupons (code, type, value, max_redemptions, created_by)"
            " VALUES (:code, 'PERCENT', :value, :max, :by) RETURNING id",
            code=code,
            value=value,
            max=max_redemptions,
            by=created_by,
        )
    )


def test_create_books_all_the_callers_live_holds_for_the_event(shop: Any, accounts: Any, catalog: Any, db: Any) -> None:
    event = catalog.event(price=2500)
    buyer = accounts.create()
    shop.held(buyer, event.id, event.seat_ids[:2])

    response = shop.create(buyer, event.id)

    assert response.status == 201, response.body
    booking = response.json()
    assert set(booking) == {
        "id", "userId", "eventId", "status", "items", "subtotal", "discount", "total", "currency", "couponCode",
        "expiresAt", "version", "createdAt", "confirmedAt", "cancelledAt", "payment",
    }  # fmt: skip
    assert booking["status"] == "PENDING"
    assert booking["userId"] == buyer.id
    assert (booking["subtotal"], booking["discount"], booking["total"], booking["currency"]) == (5000, 0, 5000, "EUR")
    assert booking["items"] == [
        {"seatId": event.seat_ids[0], "section": "Stalls", "row": "A", "number": 1, "price": 2500},
        {"seatId": event.seat_ids[1], "section": "Stalls", "row": "A", "number": 2, "price": 2500},
    ]
    assert (booking["version"], booking["payment"], booking["confirmedAt"]) == (1, None, None)
    seats = db.rows(
        "SELECT es.status, es.booking_id::text AS booking_id, es.held_until = b.expires_at AS same_expiry,"
        " extract(epoch FROM b.expires_at - b.created_at) AS ttl"
        " FROM event_seats es JOIN bookings b ON b.id = es.booking_id WHERE es.event_id = :event",
        event=event.id,
    )
    assert len(seats) == 2
    assert all(s["status"] == "HELD" and s["booking_id"] == booking["id"] and s["same_expiry"] for s in seats)
    assert round(float(seats[0]["ttl"])) == 900


def test_a_created_booking_answers_its_location_and_version_as_etag_also_on_replay(
    shop: Any, accounts: Any, catalog: Any
) -> None:
    event = catalog.event()
    buyer = accounts.create()
    assert shop.hold(buyer, event.id, event.seat_ids[:2]).status == 200
    headers = {"Idempotency-Key": "create-1"}

    created = shop.api.post(shop.CREATE, json={"eventId": event.id}, token=buyer.token, headers=headers)
    replayed = shop.api.post(shop.CREATE, json={"eventId": event.id}, token=buyer.token, headers=headers)

    assert created.status == 201, created.body
    booking = created.json()
    assert created.header("Location") == f"/api/bookings/{booking['id']}"
    assert created.header("ETag") == '"1"'
    assert shop.api.get(created.header("Location"), token=buyer.token).json() == booking
    assert (replayed.status, replayed.header("Location"), replayed.header("ETag")) == (
        201,
        created.header("Location"),
        '"1"',
    )


def test_create_with_seat_ids_books_only_those(shop: Any, accounts: Any, catalog: Any, db: Any) -> None:
    event = catalog.event()
    buyer = accounts.create()
    shop.held(buyer, event.id, event.seat_ids[:3])

    response = shop.create(buyer, event.id, [event.seat_ids[2]])

    assert response.status == 201
    assert [item["seatId"] for item in response.json()["items"]] == [event.seat_ids[2]]
    assert db.value("SELECT count(*) FROM event_seats WHERE booking_id IS NULL AND status = 'HELD'") == 2


def test_create_without_live_holds_is_seats_not_held(shop: Any, accounts: Any, catalog: Any, db: Any) -> None:
    event = catalog.event()
    buyer = accounts.create()
    shop.held(buyer, event.id, event.seat_ids[:1])
    db.execute("UPDATE event_seats SET held_until = now() - interval '1 second' WHERE status = 'HELD'")

    response = shop.create(buyer, event.id)

    assert response.status == 409
    assert response.error_code == "SEATS_NOT_HELD"
    assert db.value("SELECT count(*) FROM bookings") == 0


def test_create_with_seats_the_caller_does_not_hold_names_them(shop: Any, accounts: Any, catalog: Any, db: Any) -> None:
    event = catalog.event()
    buyer, other = accounts.create(), accounts.create()
    shop.held(buyer, event.id, event.seat_ids[:1])
    shop.held(other, event.id, event.seat_ids[1:2])

    response = shop.create(buyer, event.id, event.seat_ids[:3])

    assert response.status == 409
    assert response.error_code == "SEATS_NOT_HELD"
    assert response.json()["error"]["details"]["seatIds"] == sorted(event.seat_ids[1:3])
    assert db.value("SELECT count(*) FROM bookings") == 0
    assert db.value("SELECT count(*) FROM event_seats WHERE booking_id IS NOT NULL") == 0


def test_create_when_the_event_is_no_longer_on_sale(shop: Any, accounts: Any, catalog: Any, db: Any) -> None:
    event = catalog.event()
    buyer = accounts.create()
    shop.held(buyer, event.id, event.seat_ids[:1])
    db.execute("UPDATE events SET sales_end_at = now() - interval '1 minute' WHERE id = :id", id=event.id)

    response = shop.create(buyer, event.id)

    assert response.status == 409
    assert response.error_code == "EVENT_NOT_ON_SALE"
    assert db.value("SELECT count(*) FROM bookings") == 0


def test_create_with_a_coupon_applies_the_discount_and_counts_the_redemption(
    shop: Any, accounts: Any, catalog: Any, db: Any
) -> None:
    event = catalog.event(price=2500)
    buyer = accounts.create()
    coupon_id = _coupon(db, event.organizer_id, value=10)

    booking = shop.pending_booking(buyer, event, event.seat_ids[:2], couponCode="SAVE10")

    assert (booking["subtotal"], booking["discount"], booking["total"]) == (5000, 500, 4500)
    assert booking["couponCode"] == "SAVE10"
    assert db.value("SELECT redeemed_count FROM coupons WHERE id = :id", id=coupon_id) == 1
    assert db.value("SELECT count(*) FROM coupon_redemptions WHERE booking_id = :b", b=booking["id"]) == 1


def test_create_with_an_unknown_coupon_changes_nothing(shop: Any, accounts: Any, catalog: Any, db: Any) -> None:
    event = catalog.event()
    buyer = accounts.create()
    shop.held(buyer, event.id, event.seat_ids[:1])

    response = shop.create(buyer, event.id, couponCode="NOPE99")

    assert response.status == 422
    assert db.value("SELECT count(*) FROM bookings") == 0
    assert db.value("SELECT count(*) FROM event_seats WHERE booking_id IS NOT NULL") == 0


def test_get_booking_answers_the_owner_with_its_version_as_etag(shop: Any, accounts: Any, catalog: Any) -> None:
    event = catalog.event()
    buyer = accounts.create()
    booking = shop.pending_booking(buyer, event, event.seat_ids[:1])

    response = shop.api.get(f"/api/bookings/{booking['id']}", token=buyer.token)

    assert response.status == 200
    assert response.json() == booking
    assert response.header("ETag") == '"1"'


def test_get_booking_is_not_found_for_anyone_but_the_owner_or_an_admin(shop: Any, accounts: Any, catalog: Any) -> None:
    event = catalog.event()
    buyer, stranger, admin = accounts.create(), accounts.create(), accounts.create("ADMIN")
    booking = shop.pending_booking(buyer, event, event.seat_ids[:1])
    path = f"/api/bookings/{booking['id']}"

    hidden, seen_by_admin = shop.api.get(path, token=stranger.token), shop.api.get(path, token=admin.token)

    assert (hidden.status, hidden.error_code) == (404, "NOT_FOUND")
    assert (seen_by_admin.status, seen_by_admin.json()["id"]) == (200, booking["id"])
    assert shop.api.get(f"/api/bookings/{uuid.uuid4()}", token=buyer.token).status == 404
    assert shop.api.get("/api/bookings/not-a-uuid", token=buyer.token).status == 422


def test_list_bookings_shows_only_the_callers_bookings_with_filters(shop: Any, accounts: Any, catalog: Any) -> None:
    event, other_event = catalog.event(), catalog.event()
    buyer, stranger = accounts.create(), accounts.create()
    first = shop.pending_booking(buyer, event, event.seat_ids[:1])
    second = shop.confirmed_booking(buyer, other_event, other_event.seat_ids[:1])
    shop.pending_booking(stranger, event, event.seat_ids[1:2])

    everything = shop.api.get("/api/bookings", token=buyer.token).json()
    confirmed = shop.api.get("/api/bookings", token=buyer.token, query={"status": "CONFIRMED"}).json()
    for_event = shop.api.get("/api/bookings", token=buyer.token, query={"eventId": event.id}).json()
    paged = shop.api.get("/api/bookings", token=buyer.token, query={"page": 2, "pageSize": 1}).json()

    assert [b["id"] for b in everything["items"]] == [second["id"], first["id"]]
    assert everything["total"] == 2
    assert [b["id"] for b in confirmed["items"]] == [second["id"]]
    assert [b["id"] for b in for_event["items"]] == [first["id"]]
    assert (paged["page"], paged["pageSize"], paged["total"], [b["id"] for b in paged["items"]]) == (
        2, 1, 2, [first["id"]],
    )  # fmt: skip


def test_list_bookings_rejects_bad_filters(shop: Any, accounts: Any) -> None:
    buyer = accounts.create()

    for query in ({"status": "PAID"}, {"pageSize": 0}, {"pageSize": 101}, {"eventId": "x"}):
        response = shop.api.get("/api/bookings", token=buyer.token, query=query)
        assert (response.status, response.error_code) == (422, "VALIDATION_ERROR"), query
        assert [field["field"] for field in response.json()["error"]["details"]["fields"]] == list(query), query


def test_cancel_a_pending_booking_releases_its_seats_and_gives_the_coupon_back(
    shop: Any, accounts: Any, catalog: Any, db: Any
) -> None:
    event = catalog.event()
    buyer = accounts.create()
    coupon_id = _coupon(db, event.organizer_id)
    booking = shop.pending_booking(buyer, event, event.seat_ids[:2], couponCode="SAVE10")

    response = shop.cancel(buyer, booking["id"], {"reason": "changed my mind", "version": 1})

    assert response.status == 200, response.body
    body = response.json()
    assert (body["status"], body["version"]) == ("CANCELLED", 2)
    assert body["cancelledAt"] is not None
    assert db.value("SELECT cancel_reason FROM bookings") == "changed my mind"
    assert db.value("SELECT count(*) FROM event_seats WHERE status = 'AVAILABLE' AND held_by IS NULL") == 10
    assert db.value("SELECT redeemed_count FROM coupons WHERE id = :id", id=coupon_id) == 0
    assert db.value("SELECT type FROM notifications WHERE user_id = :u", u=buyer.id) == "BOOKING_CANCELLED"
    assert db.value("SELECT event_type FROM outbox_events") == "BookingCancelled"
    assert shop.hold(accounts.create(), event.id, event.seat_ids[:2]).status == 200


def test_cancel_a_confirmed_booking_refunds_its_payment(shop: Any, accounts: Any, catalog: Any, db: Any) -> None:
    event = catalog.event()
    buyer = accounts.create()
    booking = shop.confirmed_booking(buyer, event, event.seat_ids[:1])

    response = shop.cancel(buyer, booking["id"], headers={"If-Match": '"2"'})

    assert response.status == 200
    body = response.json()
    assert body["status"] == "CANCELLED"
    assert body["payment"]["status"] == "REFUNDED"
    assert db.value("SELECT refunded_at IS NOT NULL FROM payments WHERE booking_id = :b", b=booking["id"])
    assert db.value("SELECT status FROM event_seats WHERE id = :id", id=event.seat_ids[0]) == "AVAILABLE"


def test_cancel_a_confirmed_booking_close_to_the_event_is_refused(
    shop: Any, accounts: Any, catalog: Any, db: Any
) -> None:
    event = catalog.event(starts_in_hours=10)
    buyer = accounts.create()
    booking = shop.confirmed_booking(buyer, event, event.seat_ids[:1])

    response = shop.cancel(buyer, booking["id"])

    assert response.status == 409
    assert response.error_code == "CANCELLATION_WINDOW_CLOSED"
    assert db.value("SELECT status FROM bookings") == "CONFIRMED"
    assert db.value("SELECT status FROM payments") == "SUCCEEDED"


def test_an_admin_may_cancel_inside_the_cutoff(shop: Any, accounts: Any, catalog: Any, db: Any) -> None:
    event = catalog.event(starts_in_hours=10)
    buyer, admin = accounts.create(), accounts.create("ADMIN")
    booking = shop.confirmed_booking(buyer, event, event.seat_ids[:1])

    response = shop.cancel(admin, booking["id"])

    assert response.status == 200
    assert db.value("SELECT status FROM payments") == "REFUNDED"


def test_cancel_twice_is_a_conflict(shop: Any, accounts: Any, catalog: Any, db: Any) -> None:
    event = catalog.event()
    buyer = accounts.create()
    booking = shop.pending_booking(buyer, event, event.seat_ids[:1])
    shop.cancel(buyer, booking["id"])

    response = shop.cancel(buyer, booking["id"])

    assert response.status == 409
    assert response.error_code == "ALREADY_CANCELLED"
    assert db.value("SELECT version FROM bookings") == 2


def test_cancel_an_expired_booking_is_booking_expired(shop: Any, accounts: Any, catalog: Any, db: Any) -> None:
    event = catalog.event()
    buyer = accounts.create()
    booking = shop.pending_booking(buyer, event, event.seat_ids[:1])
    db.execute(
        "UPDATE event_seats SET status = 'AVAILABLE', held_by = NULL, held_until = NULL,"
        " booking_id = NULL, booking_status = NULL"
    )
    assert db.execute("UPDATE bookings SET status = 'EXPIRED', expired_at = now()") == 1

    response = shop.cancel(buyer, booking["id"])

    assert response.status == 409
    assert response.error_code == "BOOKING_EXPIRED"
    assert db.rows("SELECT status, version FROM bookings") == [{"status": "EXPIRED", "version": booking["version"]}]


def test_cancel_with_a_stale_version_changes_nothing(shop: Any, accounts: Any, catalog: Any, db: Any) -> None:
    event = catalog.event()
    buyer = accounts.create()
    booking = shop.confirmed_booking(buyer, event, event.seat_ids[:1])

    in_body = shop.cancel(buyer, booking["id"], {"version": 1})
    in_header = shop.cancel(buyer, booking["id"], headers={"If-Match": '"1"'})

    assert (in_body.status, in_body.error_code) == (409, "VERSION_CONFLICT")
    assert (in_header.status, in_header.error_code) == (412, "PRECONDITION_FAILED")
    assert db.value("SELECT status FROM bookings") == "CONFIRMED"


def test_cancel_someone_elses_booking_is_not_found(shop: Any, accounts: Any, catalog: Any, db: Any) -> None:
    event = catalog.event()
    buyer, stranger = accounts.create(), accounts.create()
    booking = shop.pending_booking(buyer, event, event.seat_ids[:1])

    response = shop.cancel(stranger, booking["id"])

    assert response.status == 404
    assert db.value("SELECT status FROM bookings") == "PENDING"
