"""Edges a review found: a payment finishing past the window, a stale decline, a payment the provider does not
know, and the seats of a booking whose payment is in flight."""

from __future__ import annotations

from typing import Any

from ticketing.bookings import settlement
from ticketing.bookings.settlement import reconcile_payment
from ticketing.payments.provider import Intent
from ticketing.payments.reconciliation import run_round
from ticketing.payments.states import PaymentStatus
from ticketing.payments.test_provider import TestPaymentProvider

from .conftest import checks_due, past_its_window
from .test_checkout import a_booking_awaiting_3ds, a_pending_booking, confirm_payment, pay


def test_a_payment_authenticated_after_the_window_is_confirmed_by_the_clients_confirm(
    shop: Any, accounts: Any, catalog: Any, db: Any
) -> None:
    _, buyer, booking = a_booking_awaiting_3ds(shop, accounts, catalog)
    payment_id = str(db.value("SELECT id FROM payments"))
    past_its_window(db, booking["id"])
    assert TestPaymentProvider().authenticate(db.value("SELECT reference FROM payments")).status == "SUCCEEDED"

    confirmed = confirm_payment(shop, buyer, booking, payment_id)

    # Never "expired" to a customer whose money the provider then takes: the provider's answer decides.
    assert confirmed.status == 200, confirmed.body
    assert confirmed.json()["status"] == "CONFIRMED"
    assert db.rows("SELECT status, late_refund FROM payments") == [{"status": "SUCCEEDED", "late_refund": False}]


def test_a_token_confirm_past_the_window_with_a_payment_in_flight_settles_that_payment(
    shop: Any, accounts: Any, catalog: Any, db: Any
) -> None:
    _, buyer, booking = a_booking_awaiting_3ds(shop, accounts, catalog)
    past_its_window(db, booking["id"])
    assert TestPaymentProvider().authenticate(db.value("SELECT reference FROM payments")).status == "SUCCEEDED"

    retried = shop.confirm(buyer, booking, token="tok_visa")

    assert retried.status == 200, retried.body
    assert db.value("SELECT count(*) FROM payments") == 1
    assert db.value("SELECT cardinality(confirmations) FROM test_provider_intents") == 1


def test_a_stale_decline_while_the_customer_pays_again_keeps_the_payment_watched(
    shop: Any, accounts: Any, catalog: Any, db: Any
) -> None:
    _, buyer, booking = a_pending_booking(shop, accounts, catalog)
    paid = pay(shop, buyer, booking)
    assert paid.status == 200, paid.body
    payment = paid.json()["payment"]
    # The first card was declined; by the time the decline is settled the customer's second card is processing.
    assert db.execute("UPDATE test_provider_intents SET status = 'processing'") == 1
    declined = Intent(
        id=payment["reference"],
        status=PaymentStatus.REQUIRES_PAYMENT_METHOD,
        amount=booking["total"],
        currency="EUR",
        client_secret=None,
        failure_code="card_declined",
    )

    settled = settlement.settle(payment["id"], declined)

    assert settled.outcome == settlement.Outcome.PROCESSING
    assert db.value("SELECT status FROM payments") == "PROCESSING"
    assert db.value("SELECT status FROM test_provider_intents") == "processing"
    # The second card succeeds: the reconciliation, still watching, confirms the booking.
    assert db.execute("UPDATE test_provider_intents SET status = 'succeeded'") == 1
    assert checks_due(db) == 1
    assert run_round(reconcile_payment).outcomes == {"confirmed": 1}
    assert db.value("SELECT status FROM bookings") == "CONFIRMED"


def test_a_payment_the_provider_does_not_know_does_not_stop_the_others(
    shop: Any, accounts: Any, catalog: Any, db: Any
) -> None:
    _, buyer, unknown = a_pending_booking(shop, accounts, catalog)
    assert pay(shop, buyer, unknown).status == 200
    assert db.execute("UPDATE payments SET reference = 'pi_the_provider_never_made'") == 1
    _, other, known = a_pending_booking(shop, accounts, catalog)
    assert shop.confirm(other, known, token="tok_threeDSecure").status == 402
    assert (
        TestPaymentProvider()
        .authenticate(db.value("SELECT reference FROM payments WHERE booking_id = :id", id=known["id"]))
        .status
        == "SUCCEEDED"
    )
    assert checks_due(db) == 2

    report = run_round(reconcile_payment)

    assert (report.claimed, report.unanswered, report.outcomes) == (2, 1, {"confirmed": 1})
    assert db.value("SELECT status FROM bookings WHERE id = :id", id=known["id"]) == "CONFIRMED"


def test_best_available_leaves_the_seats_of_a_booking_whose_payment_is_in_flight(
    shop: Any, accounts: Any, catalog: Any, db: Any
) -> None:
    event, _, booking = a_booking_awaiting_3ds(shop, accounts, catalog)
    past_its_window(db, booking["id"])
    reserved = event.seat_ids[0]

    taken: list[str] = []
    for _ in range(len(event.seat_ids)):
        buyer = accounts.create()
        got = shop.api.post("/api/bookings/hold-best", json={"eventId": event.id, "quantity": 1}, token=buyer.token)
        if got.status != 200:
            break
        taken += got.json()["seatIds"]

    assert len(taken) == len(event.seat_ids) - 1
    assert reserved not in taken
    assert db.value("SELECT status FROM bookings") == "PENDING"
    assert str(db.value("SELECT booking_id FROM event_seats WHERE id = :id", id=reserved)) == booking["id"]
