"""Faults between the provider and the database: whatever is lost, the reconciliation settles it.

After each: every payment the provider holds as succeeded belongs to a CONFIRMED booking or has a refund, no
intent is charged twice, no seat is sold twice.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest

from ticketing.bookings import settlement
from ticketing.bookings.settlement import reconcile_payment
from ticketing.payments.reconciliation import run_round

from .conftest import AnswerLost, checks_due, install
from .test_checkout import a_pending_booking


def money_is_accounted_for(db: Any) -> None:
    """Each intent the provider charged is our payment of a CONFIRMED booking, or refunded (queued or done)."""
    charged = db.rows(
        "SELECT i.id, p.status AS payment, b.status AS booking FROM test_provider_intents i"
        " LEFT JOIN payments p ON p.reference = i.id LEFT JOIN bookings b ON b.id = p.booking_id"
        " WHERE i.status = 'succeeded'"
    )
    for intent in charged:
        assert (intent["payment"], intent["booking"]) == ("SUCCEEDED", "CONFIRMED") or intent["payment"] in (
            "REFUND_PENDING",
            "REFUNDED",
        ), intent
    assert db.value("SELECT count(*) FROM event_seats WHERE status = 'BOOKED'") == db.value(
        "SELECT count(*) FROM booking_items bi JOIN bookings b ON b.id = bi.booking_id WHERE b.status = 'CONFIRMED'"
    )


def test_a_crash_between_the_providers_success_and_the_finalising_commit_is_finished_by_the_reconciliation(
    shop: Any, accounts: Any, catalog: Any, db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, buyer, booking = a_pending_booking(shop, accounts, catalog)
    real_finalise = settlement.finalise

    def crash(payment_id: Any, on_confirmed: Any) -> Any:
        raise SystemExit("the function was killed before its finalising commit")

    monkeypatch.setattr(settlement, "finalise", crash)
    with pytest.raises(SystemExit):
        shop.confirm(buyer, booking)
    monkeypatch.setattr(settlement, "finalise", real_finalise)
    assert db.rows("SELECT status FROM payments") == [{"status": "PROCESSING"}]
    assert db.value("SELECT status FROM test_provider_intents") == "succeeded"
    assert db.value("SELECT status FROM bookings") == "PENDING"

    assert checks_due(db) == 1
    report = run_round(reconcile_payment)

    assert report.outcomes == {"confirmed": 1}
    assert db.rows("SELECT status, version FROM bookings") == [{"status": "CONFIRMED", "version": 2}]
    money_is_accounted_for(db)


def test_an_answer_lost_on_confirm_is_503_and_the_payment_is_settled_later(
    shop: Any, accounts: Any, catalog: Any, db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    install(monkeypatch, AnswerLost("confirm_intent"))
    _, buyer, booking = a_pending_booking(shop, accounts, catalog)

    lost = shop.confirm(buyer, booking)

    assert lost.status == 503
    assert lost.error_code == "PAYMENT_PROVIDER_UNAVAILABLE"
    assert lost.header("Retry-After") == "5"
    assert db.rows("SELECT status FROM payments") == [{"status": "PROCESSING"}]

    retried = shop.confirm(buyer, booking)

    # The retry finds the provider has the confirmation already and settles from its answer: charged once.
    assert retried.status == 200, retried.body
    assert retried.json()["status"] == "CONFIRMED"
    assert db.value("SELECT cardinality(confirmations) FROM test_provider_intents") == 1
    money_is_accounted_for(db)


def test_an_answer_lost_on_create_leaves_an_attempt_the_reconciliation_ends_and_the_buyer_pays_again(
    shop: Any, accounts: Any, catalog: Any, db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    install(monkeypatch, AnswerLost("create_intent"))
    _, buyer, booking = a_pending_booking(shop, accounts, catalog)
    assert shop.confirm(buyer, booking).status == 503
    assert db.rows("SELECT status, reference FROM payments") == [{"status": "PROCESSING", "reference": None}]
    assert checks_due(db) == 1

    report = run_round(reconcile_payment)

    assert report.outcomes == {"failed": 1}
    assert db.rows("SELECT status, failure_code FROM payments") == [{"status": "FAILED", "failure_code": "abandoned"}]
    install(monkeypatch, AnswerLost())
    paid = shop.confirm(buyer, booking)
    assert paid.status == 200, paid.body
    # The intent created before the lost answer was never confirmed: it took no money.
    assert db.value("SELECT count(*) FROM test_provider_intents WHERE status = 'succeeded'") == 1
    money_is_accounted_for(db)


def test_two_reconciliations_at_once_settle_each_payment_once(
    shop: Any, accounts: Any, catalog: Any, db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    install(monkeypatch, AnswerLost("confirm_intent"))
    event = catalog.event()
    buyers = [accounts.create() for _ in range(6)]
    for index, buyer in enumerate(buyers):
        booking = shop.pending_booking(buyer, event, event.seat_ids[index : index + 1])
        assert shop.confirm(buyer, booking).status == 503
    assert checks_due(db) == 6
    start = threading.Barrier(2)
    reports: list[Any] = []

    def reconcile() -> None:
        start.wait()
        reports.append(run_round(reconcile_payment))

    threads = [threading.Thread(target=reconcile) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sum(report.claimed for report in reports) == 6
    assert sum(report.outcomes.get("confirmed", 0) for report in reports) == 6
    assert db.value("SELECT count(*) FROM bookings WHERE status = 'CONFIRMED' AND version = 2") == 6
    assert db.value("SELECT count(*) FROM notifications WHERE type = 'BOOKING_CONFIRMED'") == 6
    money_is_accounted_for(db)


def test_ops_reconcile_one_booking_at_once_whether_or_not_it_is_due(
    shop: Any, accounts: Any, catalog: Any, db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    install(monkeypatch, AnswerLost("confirm_intent"))
    event = catalog.event()
    buyer, other = accounts.create(), accounts.create()
    booking = shop.pending_booking(buyer, event, event.seat_ids[:1])
    untouched = shop.pending_booking(other, event, event.seat_ids[1:2])
    assert shop.confirm(buyer, booking).status == 503
    assert shop.confirm(other, untouched).status == 503

    report = run_round(reconcile_payment, booking_id=booking["id"])

    assert (report.claimed, report.outcomes) == (1, {"confirmed": 1})
    assert db.value("SELECT status FROM bookings WHERE id = :id", id=booking["id"]) == "CONFIRMED"
    assert db.value("SELECT status FROM bookings WHERE id = :id", id=untouched["id"]) == "PENDING"
