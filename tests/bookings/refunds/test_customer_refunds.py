"""A customer's cancel queues the refund in its transaction and tries it right after commit."""

from __future__ import annotations

from typing import Any

import pytest

from ticketing.refunds import worker

from .conftest import RecordingProvider


def test_the_refund_is_sent_after_the_commit_so_the_answer_already_says_refunded(
    shop: Any, accounts: Any, catalog: Any, db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    provider = RecordingProvider()
    monkeypatch.setattr(worker, "payment_provider", lambda: provider)
    event = catalog.event()
    buyer = accounts.create()
    booking = shop.confirmed_booking(buyer, event, event.seat_ids[:1])

    response = shop.cancel(buyer, booking["id"])

    assert response.status == 200, response.body
    body = response.json()
    assert (body["status"], body["version"], body["payment"]["status"]) == ("CANCELLED", 3, "REFUNDED")
    assert provider.calls == [body["payment"]["id"]]
    assert provider.locks_seen == [0]  # the cancel had committed: no booking, seat or payment row locked
    assert db.value("SELECT refund_reference FROM payments") == db.value("SELECT reference FROM test_provider_refunds")


def test_with_tok_refund_fails_once_the_answer_says_pending_and_a_worker_refunds_it_later(
    shop: Any, accounts: Any, catalog: Any, db: Any
) -> None:
    event = catalog.event()
    buyer = accounts.create()
    pending = shop.pending_booking(buyer, event, event.seat_ids[:1])
    confirmed = shop.confirm(buyer, pending, token="tok_refundFailsOnce")
    assert confirmed.status == 200, confirmed.body
    assert confirmed.json()["payment"]["status"] == "SUCCEEDED"

    cancelled = shop.cancel(buyer, pending["id"])

    assert cancelled.status == 200, cancelled.body
    assert cancelled.json()["payment"]["status"] == "REFUND_PENDING"
    assert db.rows("SELECT attempts, reference FROM test_provider_refunds") == [{"attempts": 1, "reference": None}]

    db.execute("UPDATE payments SET refund_due_at = now()")  # Given: the backoff has passed
    report = worker.run_round()

    assert report.refunded == 1
    shown = shop.api.get(f"/api/bookings/{pending['id']}", token=buyer.token).json()
    assert shown["payment"]["status"] == "REFUNDED"
    books = db.rows("SELECT attempts, reference IS NOT NULL AS refunded FROM test_provider_refunds")
    assert books == [{"attempts": 2, "refunded": True}]


def test_an_expired_booking_has_no_refund_to_queue(shop: Any, accounts: Any, catalog: Any, db: Any) -> None:
    from ticketing.bookings.expiry import sweep

    event = catalog.event()
    buyer = accounts.create()
    booking = shop.pending_booking(buyer, event, event.seat_ids[:2])
    db.execute("UPDATE bookings SET expires_at = now() - interval '1 minute'")

    report = sweep(time_budget_seconds=30)

    assert report.expired_bookings == 1
    assert db.rows("SELECT status, version FROM bookings") == [{"status": "EXPIRED", "version": 2}]
    assert db.value("SELECT count(*) FROM payments") == 0
    assert db.rows("SELECT type, data ->> 'bookingId' AS booking FROM notifications") == [
        {"type": "BOOKING_EXPIRED", "booking": booking["id"]}
    ]
