"""Confirm and cancel with an `Idempotency-Key`: the answer commits in the transaction that commits the outcome
(the settlement that confirms the booking, the cancellation), so no crash leaves an outcome without its replay
(docs/security.md, "Exactly-once delivery")."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import RecordingProvider, install


def _key(value: str) -> dict[str, str]:
    return {"Idempotency-Key": value}


def ran_then_replayed(retried: Any, replayed: Any, booking_status: str) -> None:
    """A Then step: the retry ran and left the booking in `booking_status`; the request after it replayed that."""
    assert (retried.status, replayed.status) == (200, 200), retried.body
    assert retried.json()["status"] == booking_status
    assert retried.header("Idempotent-Replayed") is None
    assert replayed.header("Idempotent-Replayed") == "true"
    assert replayed.json() == retried.json()


@pytest.fixture
def provider(monkeypatch: pytest.MonkeyPatch) -> RecordingProvider:
    recording = RecordingProvider()
    install(monkeypatch, recording)
    return recording


class AnswerWrites:
    """Writing an idempotent answer fails, as a function dying right there would, until `heal()`."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        from ticketing.http import idempotency_keys

        self._monkeypatch = monkeypatch
        self._module = idempotency_keys
        self._real_store = idempotency_keys.store_answer
        monkeypatch.setattr(idempotency_keys, "store_answer", self._crash)

    @staticmethod
    def _crash(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the function died here")

    def heal(self) -> None:
        self._monkeypatch.setattr(self._module, "store_answer", self._real_store)


@pytest.fixture
def answer_write_fails(monkeypatch: pytest.MonkeyPatch) -> AnswerWrites:
    return AnswerWrites(monkeypatch)


def test_a_confirm_whose_answer_cannot_be_written_confirms_nothing_and_its_retry_confirms_once(
    shop: Any, accounts: Any, catalog: Any, db: Any, provider: RecordingProvider, answer_write_fails: AnswerWrites
) -> None:
    # Given a pending booking, and a confirm whose answer's write fails after the provider took the payment
    event = catalog.event()
    buyer = accounts.create()
    booking = shop.pending_booking(buyer, event, event.seat_ids[:1])
    crashed = shop.confirm(buyer, booking, headers=_key("pay"))
    assert crashed.status == 500, crashed.body
    assert provider.calls.count("confirm_intent") == 1
    # Then the confirmation rolled back with it: the booking is still pending, its payment still with the provider
    assert db.rows("SELECT status, version FROM bookings") == [{"status": "PENDING", "version": 1}]
    assert db.value("SELECT status FROM payments") == "PROCESSING"
    assert db.value("SELECT count(*) FROM tickets") == 0
    assert db.value("SELECT count(*) FROM idempotency_keys") == 0
    # When the client retries with the same key, and once more
    answer_write_fails.heal()
    retried = shop.confirm(buyer, booking, headers=_key("pay"))
    replayed = shop.confirm(buyer, booking, headers=_key("pay"))
    # Then the retry settles the payment already taken (no second charge), and the next one replays its answer
    ran_then_replayed(retried, replayed, "CONFIRMED")
    assert provider.calls.count("confirm_intent") == 1
    assert db.rows("SELECT status, version FROM bookings") == [{"status": "CONFIRMED", "version": 2}]
    assert db.value("SELECT status FROM payments") == "SUCCEEDED"


def test_a_confirmed_answer_is_replayed_without_calling_the_provider(
    shop: Any, accounts: Any, catalog: Any, db: Any, provider: RecordingProvider
) -> None:
    # Given a booking confirmed with a key
    event = catalog.event()
    buyer = accounts.create()
    first = shop.confirm(buyer, shop.pending_booking(buyer, event, event.seat_ids[:1]), headers=_key("pay"))
    assert first.status == 200, first.body
    calls = list(provider.calls)
    assert "confirm_intent" in calls
    # When the client sends the same confirm again
    replayed = shop.confirm(buyer, {**first.json(), "version": 1}, headers=_key("pay"))
    # Then it gets the first answer and the provider hears nothing
    assert replayed.status == 200
    assert replayed.header("Idempotent-Replayed") == "true"
    assert replayed.json() == first.json()
    assert provider.calls == calls
    assert db.value("SELECT count(*) FROM payments") == 1


def test_the_confirmed_answer_commits_in_the_transaction_that_confirms(
    shop: Any, accounts: Any, catalog: Any, db: Any, provider: RecordingProvider, statements: list[str]
) -> None:
    # Given a pending booking
    event = catalog.event()
    buyer = accounts.create()
    booking = shop.pending_booking(buyer, event, event.seat_ids[:1])
    statements.clear()
    # When it is confirmed with a key
    confirmed = shop.confirm(buyer, booking, headers=_key("pay"))
    # Then the confirming UPDATE and the answer ran with no COMMIT between them
    assert confirmed.status == 200, confirmed.body
    confirm = next(i for i, sql in enumerate(statements) if sql.startswith("UPDATE bookings SET status = 'CONFIRMED'"))
    answer = next(i for i, sql in enumerate(statements) if i > confirm and sql.startswith("UPDATE idempotency_keys"))
    assert [sql for sql in statements[confirm:answer] if sql in {"BEGIN", "COMMIT", "ROLLBACK"}] == []
    assert db.value("SELECT response_status FROM idempotency_keys") == 200


def test_a_cancel_whose_answer_cannot_be_written_cancels_nothing_and_its_retry_cancels_once(
    shop: Any, accounts: Any, catalog: Any, db: Any, provider: RecordingProvider, answer_write_fails: AnswerWrites
) -> None:
    # Given a confirmed booking, and a cancel whose answer's write fails
    event = catalog.event()
    buyer = accounts.create()
    booking = shop.confirmed_booking(buyer, event, event.seat_ids[:1])
    crashed = shop.cancel(buyer, booking["id"], headers=_key("cancel"))
    assert crashed.status == 500, crashed.body
    # Then the cancellation rolled back with it: still confirmed and paid, no refund asked for
    assert db.rows("SELECT status, version FROM bookings") == [{"status": "CONFIRMED", "version": 2}]
    assert db.value("SELECT status FROM payments") == "SUCCEEDED"
    assert "refund" not in provider.calls
    assert db.value("SELECT count(*) FROM idempotency_keys") == 0
    # When the client retries with the same key, and once more
    answer_write_fails.heal()
    retried = shop.cancel(buyer, booking["id"], headers=_key("cancel"))
    replayed = shop.cancel(buyer, booking["id"], headers=_key("cancel"))
    # Then the retry cancels and refunds once, and the next one replays its answer
    ran_then_replayed(retried, replayed, "CANCELLED")
    assert provider.calls.count("refund") == 1
    assert db.rows("SELECT status, version FROM bookings") == [{"status": "CANCELLED", "version": 3}]


def test_a_cancel_answer_is_replayed_as_refunded_without_calling_the_provider(
    shop: Any, accounts: Any, catalog: Any, db: Any, provider: RecordingProvider
) -> None:
    # Given a confirmed booking cancelled with a key, its refund sent right after the cancellation's commit
    event = catalog.event()
    buyer = accounts.create()
    booking = shop.confirmed_booking(buyer, event, event.seat_ids[:1])
    first = shop.cancel(buyer, booking["id"], headers=_key("cancel"))
    assert first.status == 200, first.body
    assert first.json()["payment"]["status"] == "REFUNDED"
    calls = list(provider.calls)
    assert calls.count("refund") == 1
    # When the client sends the same cancel again
    replayed = shop.cancel(buyer, booking["id"], headers=_key("cancel"))
    # Then it gets the first answer, refund included (not the one stored at the cancellation's commit), and the
    # provider hears nothing
    assert replayed.status == 200
    assert replayed.header("Idempotent-Replayed") == "true"
    assert replayed.json() == first.json()
    assert provider.calls == calls
