"""The Stripe provider through the official SDK against localstripe, a stateful Stripe emulator.

Most tests call the API in-process with the Stripe provider installed and deliver webhooks signed the way
Stripe signs them; one serves the API over HTTP and lets localstripe deliver its own webhooks.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import time
from pathlib import Path
from typing import Any

import pytest
import stripe

from devtools.localstripe import WEBHOOK_SECRET, configure_webhook, stripe_environment
from ticketing.errors import ServiceUnavailable

from .conftest import paid_in_the_browser

TEMPLATE = Path(__file__).resolve().parents[3] / "template.yaml"
WEBHOOK = "/api/payments/webhooks/stripe"
THREE_D_SECURE_CARD = "4000002760003184"
DECLINED_AT_CHARGE_CARD = "4000000000000341"


def card(browser: stripe.StripeClient, number: str) -> str:
    method = browser.v1.payment_methods.create(
        params={"type": "card", "card": {"number": number, "exp_month": 12, "exp_year": 2034, "cvc": "123"}}
    )
    return str(method.id)


def signed_delivery(api: Any, event: dict[str, Any], *, secret: str = WEBHOOK_SECRET, age: int = 0) -> Any:
    """POSTs the event as Stripe does: `Stripe-Signature: t=<time>,v1=<HMAC-SHA256 of "t.payload">`."""
    payload = json.dumps(event)
    timestamp = int(time.time()) - age
    signature = hmac.new(secret.encode(), f"{timestamp}.{payload}".encode(), hashlib.sha256).hexdigest()
    headers = {"Stripe-Signature": f"t={timestamp},v1={signature}", "Content-Type": "application/json"}
    return api.post(WEBHOOK, body=payload.encode(), headers=headers)


def intent_event(browser: stripe.StripeClient, intent_id: str, event_id: str, kind: str) -> dict[str, Any]:
    intent = json.loads(browser.raw_request("get", f"/v1/payment_intents/{intent_id}").body)
    return {"id": event_id, "object": "event", "type": kind, "created": int(time.time()), "data": {"object": intent}}


def test_a_visa_card_pays_and_confirms_in_one_call(
    stripe_api: Any, shop: Any, accounts: Any, catalog: Any, db: Any
) -> None:
    event = catalog.event()
    buyer = accounts.create()
    booking = shop.pending_booking(buyer, event, event.seat_ids[:2])

    confirmed = shop.confirm(buyer, booking, token="pm_card_visa")

    assert confirmed.status == 200, confirmed.body
    body = confirmed.json()
    assert (body["status"], body["payment"]["status"], body["payment"]["provider"]) == (
        "CONFIRMED",
        "SUCCEEDED",
        "stripe",
    )
    assert body["payment"]["reference"].startswith("pi_")
    assert db.value("SELECT count(*) FROM tickets") == 2


def test_a_card_that_needs_3ds_succeeds_after_the_customer_authenticates(
    stripe_api: Any, browser: stripe.StripeClient, stripe_url: str, shop: Any, accounts: Any, catalog: Any, db: Any
) -> None:
    event = catalog.event()
    buyer = accounts.create()
    booking = shop.pending_booking(buyer, event, event.seat_ids[:1])

    challenged = shop.confirm(buyer, booking, token=card(browser, THREE_D_SECURE_CARD))

    assert challenged.status == 402, challenged.body
    details = challenged.json()["error"]["details"]
    assert (challenged.error_code, details["status"]) == ("PAYMENT_REQUIRES_ACTION", "REQUIRES_ACTION")
    intent_id = details["clientSecret"].split("_secret_")[0]
    authenticated = browser.raw_request(
        "post", f"/v1/payment_intents/{intent_id}/_authenticate", client_secret=details["clientSecret"], success="true"
    )
    assert json.loads(authenticated.body)["status"] == "succeeded"

    confirmed = shop.api.post(
        f"/api/bookings/{booking['id']}/confirm",
        json={"paymentId": details["paymentId"], "version": booking["version"]},
        token=buyer.token,
    )

    assert confirmed.status == 200, confirmed.body
    assert confirmed.json()["status"] == "CONFIRMED"
    assert db.value("SELECT status FROM payments") == "SUCCEEDED"


def test_a_card_declined_at_charge_is_402_and_its_intent_is_cancelled(
    stripe_api: Any, browser: stripe.StripeClient, shop: Any, accounts: Any, catalog: Any, db: Any
) -> None:
    event = catalog.event()
    buyer = accounts.create()
    booking = shop.pending_booking(buyer, event, event.seat_ids[:1])

    declined = shop.confirm(buyer, booking, token=card(browser, DECLINED_AT_CHARGE_CARD))

    assert declined.status == 402, declined.body
    assert declined.error_code == "PAYMENT_DECLINED"
    assert declined.json()["error"]["details"]["declineCode"] == "card_declined"
    assert db.rows("SELECT status, failure_code FROM payments") == [
        {"status": "FAILED", "failure_code": "card_declined"}
    ]
    assert browser.v1.payment_intents.retrieve(db.value("SELECT reference FROM payments")).status == "canceled"
    assert db.value("SELECT status FROM bookings") == "PENDING"


def test_a_cancelled_booking_is_refunded_through_the_refund_api(
    stripe_api: Any, browser: stripe.StripeClient, shop: Any, accounts: Any, catalog: Any, db: Any
) -> None:
    event = catalog.event()
    buyer = accounts.create()
    booking = shop.pending_booking(buyer, event, event.seat_ids[:1])
    assert shop.confirm(buyer, booking, token="pm_card_visa").status == 200

    cancelled = shop.cancel(buyer, booking["id"])

    assert cancelled.status == 200, cancelled.body
    assert cancelled.json()["payment"]["status"] == "REFUNDED"
    intent = db.value("SELECT reference FROM payments")
    refunds = browser.v1.refunds.list(params={"payment_intent": intent}).data
    assert [(refund.id, refund.amount) for refund in refunds] == [
        (db.value("SELECT refund_reference FROM payments"), booking["total"])
    ]


def test_a_webhook_before_the_clients_confirm_confirms_the_booking_and_any_redelivery_changes_nothing(
    stripe_api: Any, browser: stripe.StripeClient, shop: Any, accounts: Any, catalog: Any, db: Any
) -> None:
    buyer, booking, payment = paid_in_the_browser(stripe_api, browser, shop, accounts, catalog)
    succeeded = intent_event(browser, payment["reference"], "evt_succeeded_1", "payment_intent.succeeded")

    first = signed_delivery(stripe_api, succeeded)
    again = signed_delivery(stripe_api, succeeded)
    late_other = signed_delivery(stripe_api, {**succeeded, "id": "evt_created_0", "type": "payment_intent.created"})
    client = shop.api.post(
        f"/api/bookings/{booking['id']}/confirm",
        json={"paymentId": payment["id"], "version": booking["version"]},
        token=buyer.token,
    )

    assert (first.status, first.json()["outcome"]) == (200, "confirmed")
    assert (again.status, again.json()["outcome"]) == (200, "duplicate")
    assert (late_other.status, late_other.json()["outcome"]) == (200, "alreadySettled")
    assert client.status == 200, client.body
    assert client.json()["status"] == "CONFIRMED"
    assert db.rows("SELECT status, version FROM bookings") == [{"status": "CONFIRMED", "version": 2}]
    assert db.value("SELECT count(*) FROM tickets") == 1
    assert db.value("SELECT count(*) FROM notifications WHERE type = 'BOOKING_CONFIRMED'") == 1
    assert db.value("SELECT count(*) FROM payment_webhook_events") == 2


@pytest.mark.parametrize(
    ("secret", "age"),
    [("whsec_someone_else", 0), (WEBHOOK_SECRET, 600)],
    ids=["wrong secret", "older than 5 minutes"],
)
def test_a_webhook_whose_signature_does_not_verify_is_400_and_changes_nothing(
    stripe_api: Any,
    browser: stripe.StripeClient,
    shop: Any,
    accounts: Any,
    catalog: Any,
    db: Any,
    secret: str,
    age: int,
) -> None:
    _, _, payment = paid_in_the_browser(stripe_api, browser, shop, accounts, catalog)
    intent_id = payment["reference"]

    forged = signed_delivery(
        stripe_api, intent_event(browser, intent_id, "evt_1", "payment_intent.succeeded"), secret=secret, age=age
    )
    unsigned = stripe_api.post(WEBHOOK, json={"id": "evt_2", "type": "payment_intent.succeeded"})

    assert (forged.status, forged.error_code) == (400, "INVALID_SIGNATURE")
    assert (unsigned.status, unsigned.error_code) == (400, "INVALID_SIGNATURE")
    assert db.value("SELECT status FROM bookings") == "PENDING"
    assert db.value("SELECT status FROM payments") == "REQUIRES_PAYMENT_METHOD"
    assert db.value("SELECT count(*) FROM payment_webhook_events") == 0


def test_a_webhook_while_the_database_is_down_is_503_and_its_redelivery_succeeds(
    stripe_api: Any, browser: stripe.StripeClient, shop: Any, accounts: Any, catalog: Any, db: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    from ticketing.db import connection

    _, _, payment = paid_in_the_browser(stripe_api, browser, shop, accounts, catalog)
    intent_id = payment["reference"]
    succeeded = intent_event(browser, intent_id, "evt_during_outage", "payment_intent.succeeded")
    real_begin = connection._begin

    def database_down() -> Any:
        raise ServiceUnavailable("The database is not reachable right now; retry.")

    monkeypatch.setattr(connection, "_begin", database_down)
    during = signed_delivery(stripe_api, succeeded)
    monkeypatch.setattr(connection, "_begin", real_begin)
    after = signed_delivery(stripe_api, succeeded)

    assert during.status == 503
    assert (after.status, after.json()["outcome"]) == (200, "confirmed")
    assert db.value("SELECT status FROM bookings") == "CONFIRMED"


def test_a_repeated_idempotency_key_makes_a_second_intent_at_localstripe_but_never_a_second_charge(
    stripe_api: Any, browser: stripe.StripeClient, shop: Any, accounts: Any, catalog: Any, db: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    from ticketing.payments import repository as payments

    event = catalog.event()
    buyer = accounts.create()
    booking = shop.pending_booking(buyer, event, event.seat_ids[:1])
    real_record = payments.record_intent
    calls = iter([True])

    def crash_once(*args: Any, **kwargs: Any) -> Any:
        if next(calls, False):
            raise ServiceUnavailable("the database went away right after the intent was created")
        return real_record(*args, **kwargs)

    monkeypatch.setattr(payments, "record_intent", crash_once)
    assert shop.confirm(buyer, booking, token="pm_card_visa").status == 503
    payment_id = str(db.value("SELECT id FROM payments"))
    assert db.rows("SELECT status, reference FROM payments") == [{"status": "PROCESSING", "reference": None}]
    db.execute("UPDATE payments SET status = 'REQUIRES_PAYMENT_METHOD'")  # as the reconciliation leaves it

    retried = shop.confirm(buyer, booking, token="pm_card_visa")

    assert retried.status == 200, retried.body
    ours = [
        i
        for i in browser.v1.payment_intents.list(params={"limit": 100}).data
        if i.to_dict()["metadata"].get("payment_id") == payment_id
    ]
    assert len(ours) == 2  # the emulator made a new intent for the same Idempotency-Key...
    assert sorted(i.status for i in ours) == ["requires_payment_method", "succeeded"]  # ...charged once
    assert db.value("SELECT reference FROM payments") == next(i.id for i in ours if i.status == "succeeded")


@pytest.mark.http
def test_localstripe_delivers_its_own_signed_webhook_and_the_booking_confirms_without_the_client(
    stripe_url: str, browser: stripe.StripeClient, accounts: Any, catalog: Any, db: Any
) -> None:
    from devtools.api_client import HttpApi
    from devtools.run_api import running_api

    from ..conftest import Shop

    saved = {name: os.environ.get(name) for name in stripe_environment(stripe_url)}
    os.environ.update(stripe_environment(stripe_url))
    try:
        with running_api(TEMPLATE) as base_url:
            configure_webhook(stripe_url, f"{base_url}{WEBHOOK}")
            shop = Shop(HttpApi(base_url))
            event = catalog.event()
            buyer = accounts.create()
            booking = shop.pending_booking(buyer, event, event.seat_ids[:1])
            paid = shop.api.post(f"/api/bookings/{booking['id']}/pay", json={}, token=buyer.token)
            assert paid.status == 200, paid.body
            intent_id = paid.json()["payment"]["reference"]
            browser.v1.payment_intents.update(intent_id, params={"payment_method": "pm_card_visa"})
            assert browser.v1.payment_intents.confirm(intent_id).status == "succeeded"

            # localstripe posts the event about a second later; wait for its effect, within a bound.
            deadline = time.monotonic() + 30
            while db.value("SELECT status FROM bookings") != "CONFIRMED" and time.monotonic() < deadline:
                time.sleep(0.2)

            assert db.value("SELECT status FROM bookings") == "CONFIRMED"
            assert db.value("SELECT status FROM payments") == "SUCCEEDED"
            # (Events of earlier tests' intents that localstripe was still about to send may arrive too.)
            received = "SELECT count(*) FROM payment_webhook_events WHERE event_type = 'payment_intent.succeeded'"
            assert db.value(received) >= 1
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
