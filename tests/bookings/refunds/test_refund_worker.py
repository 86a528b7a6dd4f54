"""The refund queue (docs/refunds.md): workers claim, send outside any lock, settle; retries back off; the
last failure is REFUND_FAILED and ops can retry it; racing workers, a killed worker and a lost answer never
refund twice or lose a refund."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import threading
from typing import Any

import pytest

from ticketing.payments.provider import RefundResult
from ticketing.payments.test_provider import TestPaymentProvider
from ticketing.refunds import worker

from .conftest import AnswerLostProvider, RecordingProvider, RefusingProvider


def _payment(db: Any, booking_id: str) -> dict[str, Any]:
    row = db.rows(
        "SELECT id::text AS id, status, refund_attempts, refund_reference, refund_last_error,"
        " refund_due_at > now() + interval '1 second' AS due_later FROM payments WHERE booking_id = :b",
        b=booking_id,
    )
    assert len(row) == 1
    return row[0]


def _provider_books(db: Any) -> dict[str, dict[str, Any]]:
    rows = db.rows("SELECT idempotency_key, attempts, reference FROM test_provider_refunds")
    return {row["idempotency_key"]: row for row in rows}


def test_a_round_refunds_due_refunds_with_the_payment_id_as_idempotency_key(paid: Any, db: Any) -> None:
    _, bookings = paid.make(3)
    paid.queue_refunds(bookings)
    provider = RecordingProvider()

    report = worker.run_round(provider)

    assert (report.claimed, report.refunded, report.retrying, report.failed) == (3, 3, 0, 0)
    payments = [_payment(db, booking["id"]) for booking in bookings]
    assert {payment["status"] for payment in payments} == {"REFUNDED"}
    assert sorted(provider.calls) == sorted(payment["id"] for payment in payments)
    books = _provider_books(db)
    assert all(books[payment["id"]]["reference"] == payment["refund_reference"] for payment in payments)
    assert provider.locks_seen == [0, 0, 0]


def test_a_refused_refund_goes_back_with_backoff_and_keeps_the_reason(paid: Any, db: Any) -> None:
    _, bookings = paid.make(1)
    paid.queue_refunds(bookings)

    report = worker.run_round(RefusingProvider())

    assert (report.refunded, report.retrying) == (0, 1)
    payment = _payment(db, bookings[0]["id"])
    assert (payment["status"], payment["refund_attempts"], payment["due_later"]) == ("REFUND_PENDING", 1, True)
    assert payment["refund_last_error"] == "refund refused: processing_error"
    assert worker.run_round(RecordingProvider()).claimed == 0  # not due again before its backoff


def test_backoff_doubles_with_each_attempt(paid: Any, db: Any) -> None:
    _, bookings = paid.make(1)
    paid.queue_refunds(bookings)
    waits = []
    for _ in range(3):
        worker.run_round(RefusingProvider())
        waits.append(
            db.value(
                "SELECT round(extract(epoch FROM refund_due_at - now())) FROM payments WHERE booking_id = :b",
                b=bookings[0]["id"],
            )
        )
        db.execute("UPDATE payments SET refund_due_at = now() WHERE booking_id = :b", b=bookings[0]["id"])

    assert [int(wait) for wait in waits] == [30, 60, 120]


def test_after_the_last_attempt_the_refund_is_failed_and_ops_can_retry_it(
    paid: Any, db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(worker, "MAX_ATTEMPTS", 2)
    _, bookings = paid.make(1)
    paid.queue_refunds(bookings)
    worker.run_round(RefusingProvider())
    db.execute("UPDATE payments SET refund_due_at = now()")

    last = worker.run_round(RefusingProvider())

    assert (last.failed, last.retrying) == (1, 0)
    payment = _payment(db, bookings[0]["id"])
    assert (payment["status"], payment["refund_attempts"]) == ("REFUND_FAILED", 2)
    assert worker.run_round(RecordingProvider()).claimed == 0

    requeued = worker.retry_failed([payment["id"]])
    retried = worker.run_round(RecordingProvider())

    assert [str(row["id"]) for row in requeued] == [payment["id"]]
    assert retried.refunded == 1
    assert _payment(db, bookings[0]["id"])["status"] == "REFUNDED"


def test_the_refunds_function_retries_failed_refunds_when_ops_ask(paid: Any, db: Any) -> None:
    from pathlib import Path

    from devtools.sam_template import load_template
    from devtools.server import invoke

    function = next(
        f
        for f in load_template(Path(__file__).resolve().parents[3] / "template.yaml").functions
        if f.logical_id == "RefundsFunction"
    )
    _, bookings = paid.make(2)
    db.execute(
        "UPDATE payments SET status = 'REFUND_FAILED', refund_requested_at = now(), refund_attempts = 8,"
        " refund_last_error = 'refund refused: processing_error'"
    )
    one = db.value("SELECT id::text FROM payments WHERE booking_id = :b", b=bookings[0]["id"])

    result = invoke(function, {"action": "retryFailed", "paymentIds": [one]}, function.timeout)

    assert (result["requeued"], result["refunded"]) == (1, 1)
    assert _payment(db, bookings[0]["id"])["status"] == "REFUNDED"
    assert _payment(db, bookings[1]["id"])["status"] == "REFUND_FAILED"


def test_two_workers_racing_split_the_queue_and_send_each_refund_once(paid: Any, db: Any) -> None:
    _, bookings = paid.make(6)
    paid.queue_refunds(bookings)
    both_in_flight = threading.Barrier(2, timeout=30)

    class MeetingProvider(RecordingProvider):
        """Holds each worker's first call until the other worker is in a call too."""

        def __init__(self) -> None:
            super().__init__()
            self.met = threading.local()

        def refund(self, *, reference: str, amount: int, idempotency_key: str) -> RefundResult:
            if not getattr(self.met, "done", False):
                self.met.done = True
                both_in_flight.wait()
            return super().refund(reference=reference, amount=amount, idempotency_key=idempotency_key)

    provider = MeetingProvider()
    reports: list[worker.RefundReport] = []

    def run() -> None:
        try:
            reports.append(worker.run_round(provider, batch_size=3))
        finally:
            from ticketing.db.connection import close_connection

            close_connection()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(report.claimed for report in reports) == [3, 3]
    assert len(provider.calls) == len(set(provider.calls)) == 6
    assert provider.locks_seen == [0] * 6
    assert db.value("SELECT count(*) FROM payments WHERE status = 'REFUNDED'") == 6
    assert {row["attempts"] for row in _provider_books(db).values()} == {1}


# A worker in its own process: its provider makes the refund, says so on stdout, then never returns.
_STUCK_WORKER = """
import sys, threading
from ticketing.payments.test_provider import TestPaymentProvider
from ticketing.refunds import worker

class StuckInCall(TestPaymentProvider):
    def refund(self, *, reference, amount, idempotency_key):
        super().refund(reference=reference, amount=amount, idempotency_key=idempotency_key)
        print("in call", flush=True)
        threading.Event().wait()

worker.run_round(StuckInCall())
"""


def test_a_worker_killed_mid_call_loses_nothing_and_the_retry_does_not_refund_twice(
    paid: Any, db: Any, database_url: str
) -> None:
    _, bookings = paid.make(1)
    paid.queue_refunds(bookings)
    process = subprocess.Popen(
        [sys.executable, "-c", _STUCK_WORKER], stdout=subprocess.PIPE, env={**os.environ, "DATABASE_URL": database_url}
    )
    try:
        assert process.stdout is not None
        readable, _, _ = select.select([process.stdout], [], [], 60)
        assert readable, "the worker never reached the provider"
        assert process.stdout.readline() == b"in call\n"
        assert (
            db.value(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'ticketing'"
                " AND state LIKE 'idle in transaction%'"
            )
            == 0
        )  # the claim committed before the call: nothing is locked while the provider runs
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    payment = _payment(db, bookings[0]["id"])
    assert (payment["status"], payment["refund_attempts"], payment["due_later"]) == ("REFUND_PENDING", 1, True)
    assert worker.run_round(RecordingProvider()).claimed == 0  # its lease keeps others away for now

    db.execute("UPDATE payments SET refund_due_at = now()")  # Given: the dead worker's lease ran out
    retried = worker.run_round(RecordingProvider())

    assert retried.refunded == 1
    payment = _payment(db, bookings[0]["id"])
    books = _provider_books(db)[payment["id"]]
    assert (payment["status"], payment["refund_attempts"]) == ("REFUNDED", 2)
    assert (books["attempts"], books["reference"]) == (2, payment["refund_reference"])


def test_a_lost_provider_answer_is_retried_with_the_same_key_and_refunds_once(paid: Any, db: Any) -> None:
    _, bookings = paid.make(1)
    paid.queue_refunds(bookings)

    first = worker.run_round(AnswerLostProvider())

    assert (first.refunded, first.retrying) == (0, 1)
    payment = _payment(db, bookings[0]["id"])
    assert payment["status"] == "REFUND_PENDING"
    assert payment["refund_last_error"] == "TimeoutError: read timed out"

    db.execute("UPDATE payments SET refund_due_at = now()")  # Given: the backoff has passed
    second = worker.run_round(RecordingProvider())

    assert second.refunded == 1
    payment = _payment(db, bookings[0]["id"])
    books = _provider_books(db)[payment["id"]]
    assert (books["attempts"], books["reference"]) == (2, payment["refund_reference"])


def test_a_late_failure_from_a_claim_that_ran_out_does_not_undo_the_current_claim(paid: Any, db: Any) -> None:
    _, bookings = paid.make(1)
    paid.queue_refunds(bookings)
    slow_started, let_slow_finish = threading.Event(), threading.Event()

    class SlowRefusal(TestPaymentProvider):
        def refund(self, *, reference: str, amount: int, idempotency_key: str) -> RefundResult:
            slow_started.set()
            let_slow_finish.wait(timeout=30)
            return RefundResult(succeeded=False, reference=None, failure_code="processing_error")

    def slow_worker() -> None:
        try:
            worker.run_round(SlowRefusal())
        finally:
            from ticketing.db.connection import close_connection

            close_connection()

    thread = threading.Thread(target=slow_worker)
    thread.start()
    assert slow_started.wait(timeout=30)
    db.execute("UPDATE payments SET refund_due_at = now()")  # Given: the slow worker's lease ran out
    assert worker.run_round(RecordingProvider()).refunded == 1
    let_slow_finish.set()
    thread.join(timeout=30)

    payment = _payment(db, bookings[0]["id"])
    assert (payment["status"], payment["refund_attempts"], payment["refund_last_error"]) == ("REFUNDED", 2, None)
