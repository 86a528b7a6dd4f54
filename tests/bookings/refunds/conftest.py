"""Refund tests: payment providers that misbehave on purpose around the real test-mode provider.

The test-mode provider keeps its side of the books in `test_provider_refunds` (one row per idempotency key),
so "never refunded twice" is read from what the provider recorded, whatever process made the call.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest

from ticketing.payments.provider import RefundResult
from ticketing.payments.test_provider import TestPaymentProvider

# Tables whose rows cancellations and refund workers lock.
LOCKED_TABLES = ("payments", "bookings", "event_seats")


def row_locks_held_by_the_calling_worker() -> int:
    """Row-level locks (taken by FOR UPDATE, UPDATE) that the calling worker's own database session holds now.

    Asked through the worker's own connection: a lock held by another worker (which may be marking its own
    refund at this moment) says nothing about this call. A lock only outlives a statement inside an open
    transaction, so a worker that called the provider from inside one would show it here.
    """
    from ticketing.db import transaction

    with transaction() as tx:
        return int(
            tx.value(
                "SELECT count(*) FROM pg_locks WHERE pid = pg_backend_pid()"
                " AND mode IN ('RowShareLock', 'RowExclusiveLock')"
                " AND relation = ANY(CAST(:tables AS regclass[]))",
                tables=list(LOCKED_TABLES),
            )
        )


class RecordingProvider(TestPaymentProvider):
    """The test-mode provider that also notes every call and checks no row lock is held while it runs."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.locks_seen: list[int] = []
        self._lock = threading.Lock()

    def refund(self, *, reference: str, amount: int, idempotency_key: str) -> RefundResult:
        locks = row_locks_held_by_the_calling_worker()
        with self._lock:
            self.calls.append(idempotency_key)
            self.locks_seen.append(locks)
        return super().refund(reference=reference, amount=amount, idempotency_key=idempotency_key)


class AnswerLostProvider(TestPaymentProvider):
    """Makes the refund, then the answer never arrives (a timeout): the outcome is unknown to the caller."""

    def refund(self, *, reference: str, amount: int, idempotency_key: str) -> RefundResult:
        super().refund(reference=reference, amount=amount, idempotency_key=idempotency_key)
        raise TimeoutError("read timed out")


class RefusingProvider(TestPaymentProvider):
    """Answers every refund with a refusal."""

    def refund(self, *, reference: str, amount: int, idempotency_key: str) -> RefundResult:
        return RefundResult(succeeded=False, reference=None, failure_code="processing_error")


class PaidBookings:
    """Confirmed, paid bookings of one event, made through the API (each step asserted)."""

    def __init__(self, shop: Any, accounts: Any, catalog: Any, db: Any) -> None:
        self._shop, self._accounts, self._catalog, self._db = shop, accounts, catalog, db

    def make(self, count: int, *, token: str = "tok_visa") -> tuple[Any, list[dict[str, Any]]]:
        event = self._catalog.event(rows=1, seats_per_row=max(count, 1))
        bookings = []
        for seat_id in event.seat_ids[:count]:
            buyer = self._accounts.create()
            pending = self._shop.pending_booking(buyer, event, [seat_id])
            confirmed = self._shop.confirm(buyer, pending, token=token)
            assert confirmed.status == 200, confirmed.body
            bookings.append({**confirmed.json(), "buyer": buyer})
        return event, bookings

    def queue_refunds(self, bookings: list[dict[str, Any]]) -> None:
        """Given step: the bookings' charges are queued refunds, due now (as a cancellation leaves them)."""
        queued = self._db.execute(
            "UPDATE payments SET status = 'REFUND_PENDING', refund_requested_at = now(), refund_due_at = now()"
            " WHERE booking_id = ANY(CAST(:ids AS uuid[])) AND status = 'SUCCEEDED'",
            ids=[booking["id"] for booking in bookings],
        )
        assert queued == len(bookings)


@pytest.fixture
def paid(shop: Any, accounts: Any, catalog: Any, db: Any) -> PaidBookings:
    return PaidBookings(shop, accounts, catalog, db)
