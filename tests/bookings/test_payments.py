"""Confirm (docs/booking-lifecycle.md): confirm a booking with payment through the test-mode provider."""

from __future__ import annotations

from typing import Any


def test_confirm_books_the_seats_records_the_payment_and_tells_the_buyer(
    shop: Any, accounts: Any, catalog: Any, db: Any
) -> None:
    event = catalog.event()
    buyer = accounts.create()
    booking = shop.pending_booking(buyer, event, event.seat_ids[:2])

    response = shop.confirm(buyer, booking)

    assert response.status == 200, response.body
    body = response.json()
    assert (body["status"], body["version"]) == ("CONFIRMED", 2)
    assert body["confirmedAt"] is not None
    payment = body["payment"]
    assert (payment["status"], payment["amount"], payment["currency"], payment["provider"]) == (
        "SUCCEEDED", 5000, "EUR", "test",
    )  # fmt: skip
    assert payment["reference"].startswith("pi_test_")
    seats = db.rows("SELECT status, booking_status FROM event_seats WHERE booking_id = :b", b=booking["id"])
    assert seats == [{"status": "BOOKED", "booking_status": "CONFIRMED"}] * 2
    assert db.value("SELECT count(*) FROM payments WHERE status = 'SUCCEEDED'") == 1
    assert db.value("SELECT type FROM notifications WHERE user_id = :u", u=buyer.id) == "BOOKING_CONFIRMED"
    outbox = db.rows("SELECT event_type, payload FROM outbox_events")
    assert [row["event_type"] for row in outbox] == ["BookingConfirmed"]
    assert outbox[0]["payload"]["bookingId"] == booking["id"]
    assert outbox[0]["payload"]["total"] == 5000


def test_a_declined_payment_is_402_records_the_failure_and_leaves_the_booking_pending(
    shop: Any, accounts: Any, catalog: Any, db: Any
) -> None:
    event = catalog.event()
    buyer = accounts.create()
    booking = shop.pending_booking(buyer, event, event.seat_ids[:1])

    response = shop.confirm(buyer, booking, token="tok_chargeDeclined")

    assert response.status == 402
    assert response.error_code == "PAYMENT_DECLINED"
    payment_id = db.value("SELECT id FROM payments")
    assert response.json()["error"]["details"] == {
        "declineCode": "card_declined", "paymentId": str(payment_id), "status": "FAILED",
    }  # fmt: skip
    assert db.rows("SELECT status, version FROM bookings") == [{"status": "PENDING", "version": 1}]
    assert db.rows("SELECT status, failure_code FROM payments") == [
        {"status": "FAILED", "failure_code": "card_declined"}
    ]
    assert db.value("SELECT status FROM event_seats WHERE id = :id", id=event.seat_ids[0]) == "HELD"
    assert db.value("SELECT count(*) FROM outbox_events") == 0
    shown = shop.api.get(f"/api/bookings/{booking['id']}", token=buyer.token).json()
    assert shown["payment"]["status"] == "FAILED"

    retried = shop.confirm(buyer, booking)

    assert retried.status == 200
    assert retried.json()["payment"]["status"] == "SUCCEEDED"


def test_other_decline_tokens_carry_their_decline_code(shop: Any, accounts: Any, catalog: Any) -> None:
    event = catalog.event()
    buyer = accounts.create()
    booking = shop.pending_booking(buyer, event, event.seat_ids[:1])

    response = shop.confirm(buyer, booking, token="tok_chargeDeclinedInsufficientFunds")

    assert response.status == 402
    assert response.json()["error"]["details"]["declineCode"] == "insufficient_funds"


def test_an_unknown_payment_token_is_a_validation_error(shop: Any, accounts: Any, catalog: Any, db: Any) -> None:
    event = catalog.event()
    buyer = accounts.create()
    booking = shop.pending_booking(buyer, event, event.seat_ids[:1])

    response = shop.confirm(buyer, booking, token="4242424242424242")

    assert response.status == 422
    assert response.json()["error"]["details"]["fields"][0]["field"] == "paymentToken"
    assert db.rows("SELECT status, version FROM bookings") == [{"status": "PENDING", "version": 1}]
    assert db.value("SELECT count(*) FROM payments") == 0


def test_an_amount_other_than_the_total_is_amount_mismatch(shop: Any, accounts: Any, catalog: Any, db: Any) -> None:
    event = catalog.event()
    buyer = accounts.create()
    booking = shop.pending_booking(buyer, event, event.seat_ids[:1])

    response = shop.confirm(buyer, booking, amount=1)

    assert response.status == 422
    assert response.error_code == "AMOUNT_MISMATCH"
    assert response.json()["error"]["details"]["total"] == 2500
    assert db.value("SELECT status FROM bookings") == "PENDING"
    assert db.value("SELECT count(*) FROM payments") == 0


def test_confirm_with_a_stale_version_is_version_conflict(shop: Any, accounts: Any, catalog: Any, db: Any) -> None:
    event = catalog.event()
    buyer = accounts.create()
    booking = shop.pending_booking(buyer, event, event.seat_ids[:1])
    db.execute("UPDATE bookings SET version = 2")

    response = shop.confirm(buyer, booking)

    assert response.status == 409
    assert response.error_code == "VERSION_CONFLICT"
    assert response.json()["error"]["details"]["currentVersion"] == 2
    assert db.value("SELECT status FROM bookings") == "PENDING"


def test_confirming_twice_is_version_conflict_and_charges_once(shop: Any, accounts: Any, catalog: Any, db: Any) -> None:
    event = catalog.event()
    buyer = accounts.create()
    booking = shop.pending_booking(buyer, event, event.seat_ids[:1])
    assert shop.confirm(buyer, booking).status == 200

    again = shop.confirm(buyer, booking)
    with_new_version = shop.confirm(buyer, booking, version=2)

    assert (again.status, again.error_code) == (409, "VERSION_CONFLICT")
    assert (with_new_version.status, with_new_version.error_code) == (409, "VERSION_CONFLICT")
    assert db.value("SELECT count(*) FROM payments") == 1


def test_if_match_can_replace_the_version_in_the_body(shop: Any, accounts: Any, catalog: Any) -> None:
    event = catalog.event()
    buyer = accounts.create()
    booking = shop.pending_booking(buyer, event, event.seat_ids[:1])

    response = shop.confirm(buyer, booking, version=None, headers={"If-Match": '"1"'})

    assert response.status == 200
    assert response.json()["status"] == "CONFIRMED"


def test_a_stale_if_match_is_precondition_failed(shop: Any, accounts: Any, catalog: Any, db: Any) -> None:
    event = catalog.event()
    buyer = accounts.create()
    booking = shop.pending_booking(buyer, event, event.seat_ids[:1])

    stale = shop.confirm(buyer, booking, version=None, headers={"If-Match": '"7"'})
    garbage = shop.confirm(buyer, booking, version=None, headers={"If-Match": "yesterday"})

    assert (stale.status, stale.error_code) == (412, "PRECONDITION_FAILED")
    assert garbage.status == 412
    assert db.value("SELECT status FROM bookings") == "PENDING"


def test_confirm_without_any_version_is_a_validation_error(shop: Any, accounts: Any, catalog: Any) -> None:
    event = catalog.event()
    buyer = accounts.create()
    booking = shop.pending_booking(buyer, event, event.seat_ids[:1])

    response = shop.confirm(buyer, booking, version=None)

    assert response.status == 422
    assert response.json()["error"]["details"]["fields"][0]["field"] == "version"


def test_confirm_past_the_payment_window_is_booking_expired(shop: Any, accounts: Any, catalog: Any, db: Any) -> None:
    event = catalog.event()
    buyer = accounts.create()
    booking = shop.pending_booking(buyer, event, event.seat_ids[:1])
    db.execute("UPDATE bookings SET expires_at = now() - interval '1 second'")

    response = shop.confirm(buyer, booking)

    assert response.status == 409
    assert response.error_code == "BOOKING_EXPIRED"
    assert db.value("SELECT count(*) FROM payments") == 0
    assert db.value("SELECT status FROM event_seats WHERE id = :id", id=event.seat_ids[0]) == "HELD"


def test_confirm_a_cancelled_booking_is_a_conflict(shop: Any, accounts: Any, catalog: Any, db: Any) -> None:
    event = catalog.event()
    buyer = accounts.create()
    booking = shop.pending_booking(buyer, event, event.seat_ids[:1])
    shop.cancel(buyer, booking["id"])

    response = shop.confirm(buyer, booking, version=2)

    assert response.status == 409
    assert response.error_code == "VERSION_CONFLICT"
    assert db.value("SELECT count(*) FROM payments") == 0


def test_confirm_someone_elses_booking_is_not_found(shop: Any, accounts: Any, catalog: Any, db: Any) -> None:
    event = catalog.event()
    buyer, stranger = accounts.create(), accounts.create()
    booking = shop.pending_booking(buyer, event, event.seat_ids[:1])

    response = shop.confirm(stranger, booking)

    assert response.status == 404
    assert db.value("SELECT status FROM bookings") == "PENDING"


def test_confirm_for_a_cancelled_event_is_refused(shop: Any, accounts: Any, catalog: Any, db: Any) -> None:
    event = catalog.event()
    buyer = accounts.create()
    booking = shop.pending_booking(buyer, event, event.seat_ids[:1])
    db.execute("UPDATE events SET status = 'CANCELLED', cancelled_at = now()")

    response = shop.confirm(buyer, booking)

    assert response.status == 409
    assert response.error_code == "EVENT_NOT_ON_SALE"
    assert db.value("SELECT count(*) FROM payments") == 0
