"""The invariant check against localstripe's own books: payments made through the Stripe provider are compared
with the intents and refunds the emulator holds, after the database snapshot (docs/operations.md)."""

from __future__ import annotations

import socket
from typing import Any

import pytest
import stripe

from ticketing.config import get_settings
from ticketing.ops.invariants import check
from ticketing.payments import provider_books
from ticketing.payments.provider import provider_named

from .conftest import paid_in_the_browser


def violations_of(report: Any) -> dict[str, list[dict[str, Any]]]:
    return {entry["invariant"]: entry["rows"] for entry in report.as_dict()["violations"]}


def test_stripe_payments_confirmed_and_refunded_hold_every_invariant(
    stripe_api: Any, shop: Any, accounts: Any, catalog: Any, db: Any
) -> None:
    # Given one booking paid through Stripe and another paid, cancelled and refunded through it
    event = catalog.event()
    kept_buyer, cancelling_buyer = accounts.create(), accounts.create()
    kept = shop.confirm(kept_buyer, shop.pending_booking(kept_buyer, event, event.seat_ids[:1]), token="pm_card_visa")
    assert kept.status == 200, kept.body
    refunded = shop.pending_booking(cancelling_buyer, event, event.seat_ids[1:2])
    assert shop.confirm(cancelling_buyer, refunded, token="pm_card_visa").status == 200
    assert shop.cancel(cancelling_buyer, refunded["id"]).status == 200
    assert db.rows("SELECT provider, status FROM payments ORDER BY status") == [
        {"provider": "stripe", "status": "REFUNDED"},
        {"provider": "stripe", "status": "SUCCEEDED"},
    ]

    report = check()

    assert report.violations == []
    assert set(provider_books.RULES) <= set(report.checked)


def test_a_payment_refunded_twice_at_stripe_is_reported_with_its_refunds(
    stripe_api: Any, browser: stripe.StripeClient, shop: Any, accounts: Any, catalog: Any, db: Any
) -> None:
    # Given a confirmed Stripe payment refunded twice at the provider behind our back
    event = catalog.event()
    buyer = accounts.create()
    assert (
        shop.confirm(buyer, shop.pending_booking(buyer, event, event.seat_ids[:1]), token="pm_card_visa").status == 200
    )
    [payment] = db.rows("SELECT id, booking_id, amount, reference FROM payments")
    refunds = [
        browser.v1.refunds.create(params={"payment_intent": payment["reference"], "amount": 1}).id for _ in range(2)
    ]
    assert len(set(refunds)) == 2

    report = check()

    assert report.exit_code == 1
    assert violations_of(report) == {
        "payments.stripe_refunded_at_most_once": [
            {
                "payment_id": str(payment["id"]),
                "booking_id": str(payment["booking_id"]),
                "reference": payment["reference"],
                "payment_status": "SUCCEEDED",
                "provider_charged": True,
                "charged": payment["amount"],
                "refunded": 2,
                "refunds": refunds,
            }
        ]
    }


def test_a_charge_at_stripe_whose_payment_we_marked_failed_is_reported(
    stripe_api: Any, browser: stripe.StripeClient, shop: Any, accounts: Any, catalog: Any, db: Any
) -> None:
    # Given an intent the customer paid at Stripe while our payment row says FAILED (money taken we do not know of)
    _, booking, payment = paid_in_the_browser(stripe_api, browser, shop, accounts, catalog)
    intent_id = payment["reference"]
    assert (
        db.execute(
            "UPDATE payments SET status = 'FAILED', check_after = NULL WHERE reference = :intent", intent=intent_id
        )
        == 1
    )

    report = check()

    assert report.exit_code == 1
    assert violations_of(report) == {
        "payments.stripe_charge_recorded": [
            {
                "payment_id": payment["id"],
                "booking_id": booking["id"],
                "reference": intent_id,
                "payment_status": "FAILED",
                "provider_charged": True,
                "charged": booking["total"],
                "refunded": 0,
                "refunds": [],
            }
        ]
    }


def test_stripe_not_answering_is_reported_once_and_the_other_payments_are_not_asked(
    stripe_api: Any, fresh_settings: pytest.MonkeyPatch, shop: Any, accounts: Any, catalog: Any, db: Any
) -> None:
    # Given two Stripe payments, and then Stripe's address refusing connections (a port bound, never listening)
    event = catalog.event()
    for seat in event.seat_ids[:2]:
        buyer = accounts.create()
        assert shop.confirm(buyer, shop.pending_booking(buyer, event, [seat]), token="pm_card_visa").status == 200
    payments = [str(row["id"]) for row in db.rows("SELECT id FROM payments ORDER BY created_at, id")]
    assert len(payments) == 2
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        fresh_settings.setenv("STRIPE_API_BASE", f"http://127.0.0.1:{closed.getsockname()[1]}")
        get_settings.cache_clear()
        provider_named.cache_clear()

        report = check()

    unreadable = violations_of(report)["payments.stripe_books_readable"]
    assert [row["payment_id"] for row in unreadable] == payments
    assert unreadable[0]["error"].startswith("APIConnectionError")
    assert unreadable[1]["error"].startswith("not asked: APIConnectionError")
    assert set(violations_of(report)) == {"payments.stripe_books_readable"}
