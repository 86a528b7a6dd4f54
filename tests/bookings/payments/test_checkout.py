"""Checkout with the test provider: pay, the two confirms, 3-D Secure, late payments, and the payment window."""

from __future__ import annotations

from typing import Any

import pytest

from ticketing.bookings.expiry import sweep
from ticketing.bookings.settlement import reconcile_payment
from ticketing.payments.reconciliation import run_round
from ticketing.payments.test_provider import TestPaymentProvider

from .conftest import RecordingProvider, checks_due, install, past_its_window


def pay(shop: Any, account: Any, booking: dict[str, Any]) -> Any:
    return shop.api.post(f"/api/bookings/{booking['id']}/pay", json={}, token=account.token)


def confirm_payment(shop: Any, account: Any, booking: dict[str, Any], payment_id: str) -> Any:
    body = {"paymentId": payment_id, "version": booking["version"]}
    return shop.api.post(f"/api/bookings/{booking['id']}/confirm", json=body, token=account.token)


def test_pay_creates_the_intent_once_and_a_repeat_answers_the_same(
    shop: Any, accounts: Any, catalog: Any, db: Any
) -> None:
    event = catalog.event()
    buyer = accounts.create()
    booking = shop.pending_booking(buyer, event, event.seat_ids[:2])

    first = pay(shop, buyer, booking)
    again = pay(shop, buyer, booking)

    assert first.status == 200, first.body
    payment = first.json()["payment"]
    assert (payment["status"], payment["amount"], payment["currency"]) == (
        "REQUIRES_PAYMENT_METHOD", booking["total"], "EUR",
    )  # fmt: skip
    assert payment["clientSecret"].startswith(payment["reference"] + "_secret_")
    assert again.status == 200
    assert again.json() == first.json()
    assert db.value("SELECT count(*) FROM payments") == 1
    assert db.value("SELECT count(*) FROM test_provider_intents") == 1
    assert db.value("SELECT status FROM bookings") == "PENDING"


def test_a_card_that_needs_3ds_answers_402_and_confirms_once_the_customer_authenticated(
    shop: Any, accounts: Any, catalog: Any, db: Any
) -> None:
    event = catalog.event()
    buyer = accounts.create()
    booking = shop.pending_booking(buyer, event, event.seat_ids[:1])

    challenged = shop.confirm(buyer, booking, token="tok_threeDSecure")

    assert challenged.status == 402
    assert challenged.error_code == "PAYMENT_REQUIRES_ACTION"
    details = challenged.json()["error"]["details"]
    assert details["status"] == "REQUIRES_ACTION"
    assert details["clientSecret"].startswith("pi_test_")
    assert db.rows("SELECT status FROM payments") == [{"status": "REQUIRES_ACTION"}]
    assert db.value("SELECT status FROM bookings") == "PENDING"

    reference = db.value("SELECT reference FROM payments")
    assert TestPaymentProvider().authenticate(reference).status == "SUCCEEDED"
    confirmed = confirm_payment(shop, buyer, booking, details["paymentId"])

    assert confirmed.status == 200, confirmed.body
    assert (confirmed.json()["status"], confirmed.json()["payment"]["status"]) == ("CONFIRMED", "SUCCEEDED")
    assert db.value("SELECT status FROM event_seats WHERE id = :id", id=event.seat_ids[0]) == "BOOKED"
    assert db.value("SELECT count(*) FROM tickets WHERE status = 'VALID'") == 1


def test_confirm_with_a_payment_before_it_was_paid_asks_the_customer_to_act(
    shop: Any, accounts: Any, catalog: Any, db: Any
) -> None:
    event = catalog.event()
    buyer = accounts.create()
    booking = shop.pending_booking(buyer, event, event.seat_ids[:1])
    paid = pay(shop, buyer, booking)
    assert paid.status == 200, paid.body

    early = confirm_payment(shop, buyer, booking, paid.json()["payment"]["id"])

    assert early.status == 402
    assert early.error_code == "PAYMENT_REQUIRES_ACTION"
    assert early.json()["error"]["details"]["clientSecret"] == paid.json()["payment"]["clientSecret"]
    assert db.value("SELECT status FROM bookings") == "PENDING"


def test_the_expiry_job_waits_for_a_payment_in_flight_and_the_reconciliation_then_ends_it(
    shop: Any, accounts: Any, catalog: Any, db: Any
) -> None:
    event = catalog.event()
    buyer = accounts.create()
    booking = shop.pending_booking(buyer, event, event.seat_ids[:1])
    challenged = shop.confirm(buyer, booking, token="tok_threeDSecure")
    assert challenged.status == 402, challenged.body
    past_its_window(db, booking["id"])

    sweep(time_budget_seconds=10)

    assert db.value("SELECT status FROM bookings") == "PENDING"
    assert db.value("SELECT status FROM event_seats WHERE id = :id", id=event.seat_ids[0]) == "HELD"

    assert checks_due(db) == 1
    report = run_round(reconcile_payment)
    sweep(time_budget_seconds=10)

    assert report.outcomes == {"failed": 1}
    assert db.rows("SELECT status, failure_code FROM payments") == [{"status": "FAILED", "failure_code": "canceled"}]
    assert db.value("SELECT status FROM test_provider_intents") == "canceled"
    assert db.value("SELECT status FROM bookings") == "EXPIRED"
    assert db.value("SELECT status FROM event_seats WHERE id = :id", id=event.seat_ids[0]) == "AVAILABLE"


def test_a_payment_in_flight_at_the_end_of_the_window_still_confirms_when_it_succeeds(
    shop: Any, accounts: Any, catalog: Any, db: Any
) -> None:
    event = catalog.event()
    buyer = accounts.create()
    booking = shop.pending_booking(buyer, event, event.seat_ids[:1])
    challenged = shop.confirm(buyer, booking, token="tok_threeDSecure")
    assert challenged.status == 402, challenged.body
    past_its_window(db, booking["id"])
    assert TestPaymentProvider().authenticate(db.value("SELECT reference FROM payments")).status == "SUCCEEDED"
    assert checks_due(db) == 1

    report = run_round(reconcile_payment)

    assert report.outcomes == {"confirmed": 1}
    assert db.rows("SELECT status, version FROM bookings") == [{"status": "CONFIRMED", "version": 2}]
    assert db.value("SELECT status FROM payments") == "SUCCEEDED"


def test_a_payment_that_succeeds_after_its_booking_expired_is_refunded_and_the_customer_told(
    shop: Any, accounts: Any, catalog: Any, db: Any
) -> None:
    event = catalog.event()
    buyer = accounts.create()
    booking = shop.pending_booking(buyer, event, event.seat_ids[:1])
    paid = pay(shop, buyer, booking)
    assert paid.status == 200, paid.body
    past_its_window(db, booking["id"])
    assert sweep(time_budget_seconds=10).expired_bookings == 1
    # The customer's browser pays the intent after all, straight at the provider.
    intent = TestPaymentProvider().confirm_intent(
        paid.json()["payment"]["reference"], payment_method="tok_visa", idempotency_key="browser"
    )
    assert intent.status == "SUCCEEDED"
    assert checks_due(db) == 1

    report = run_round(reconcile_payment)

    assert report.outcomes == {"refundedLate": 1}
    assert db.rows("SELECT status, late_refund FROM payments") == [{"status": "REFUNDED", "late_refund": True}]
    assert db.value("SELECT count(*) FROM test_provider_refunds WHERE reference IS NOT NULL") == 1
    assert db.value("SELECT status FROM bookings") == "EXPIRED"
    assert db.value("SELECT count(*) FROM tickets") == 0
    assert db.rows("SELECT type FROM notifications ORDER BY created_at") == [
        {"type": "BOOKING_EXPIRED"},
        {"type": "PAYMENT_REFUNDED_LATE"},
    ]


def test_two_confirms_at_once_take_the_money_once(shop: Any, accounts: Any, catalog: Any, db: Any) -> None:
    from concurrent.futures import ThreadPoolExecutor

    event = catalog.event()
    buyer = accounts.create()
    booking = shop.pending_booking(buyer, event, event.seat_ids[:1])

    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(lambda _: shop.confirm(buyer, booking), range(4)))

    statuses = sorted(answer.status for answer in answers)
    assert statuses.count(200) >= 1
    assert set(statuses) <= {200, 409}
    assert db.value("SELECT count(*) FROM test_provider_intents WHERE status = 'succeeded'") == 1
    assert db.value("SELECT cardinality(confirmations) FROM test_provider_intents") == 1
    assert db.rows("SELECT status FROM payments") == [{"status": "SUCCEEDED"}]
    assert db.value("SELECT status FROM bookings") == "CONFIRMED"


def test_no_transaction_is_open_while_the_provider_is_called(
    shop: Any, accounts: Any, catalog: Any, db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    provider = RecordingProvider()
    install(monkeypatch, provider)
    event = catalog.event()
    buyer = accounts.create()
    paid = shop.pending_booking(buyer, event, event.seat_ids[:1])
    declined = shop.pending_booking(buyer, event, event.seat_ids[1:2])
    challenged = shop.pending_booking(buyer, event, event.seat_ids[2:3])
    late = shop.pending_booking(buyer, event, event.seat_ids[3:4])

    assert shop.confirm(buyer, paid).status == 200
    assert shop.confirm(buyer, declined, token="tok_chargeDeclined").status == 402
    assert shop.confirm(buyer, challenged, token="tok_threeDSecure").status == 402
    assert pay(shop, buyer, late).status == 200
    past_its_window(db, late["id"])
    assert sweep(time_budget_seconds=10).expired_bookings == 1
    provider.confirm_intent(
        db.value("SELECT reference FROM payments WHERE booking_id = :id", id=late["id"]),
        payment_method="tok_visa",
        idempotency_key="browser",
    )
    assert checks_due(db) == 2
    assert run_round(reconcile_payment).claimed == 2
    assert shop.cancel(buyer, paid["id"]).status == 200

    assert {"create_intent", "confirm_intent", "retrieve_intent", "cancel_intent", "refund"} <= set(provider.calls)
    assert provider.inside_transaction == []
    assert set(provider.locks_seen) == {0}


@pytest.mark.parametrize(
    ("method", "arguments"),
    [
        ("create_intent", {"amount": 100, "currency": "EUR", "payment_id": "p", "idempotency_key": "k"}),
        ("confirm_intent", {"intent_id": "pi_x", "payment_method": "tok_visa", "idempotency_key": "k"}),
        ("retrieve_intent", {"intent_id": "pi_x"}),
        ("cancel_intent", {"intent_id": "pi_x"}),
        ("refund", {"reference": "pi_x", "amount": 100, "idempotency_key": "k"}),
    ],
)
def test_a_provider_call_inside_a_transaction_is_refused_before_it_is_made(
    db: Any, method: str, arguments: dict[str, Any]
) -> None:
    from ticketing.db import transaction
    from ticketing.payments.provider import ProviderCallInTransaction

    with pytest.raises(ProviderCallInTransaction), transaction():
        getattr(TestPaymentProvider(), method)(**arguments)

    assert db.value("SELECT count(*) FROM test_provider_intents") == 0
    assert db.value("SELECT count(*) FROM test_provider_refunds") == 0
