"""The refund workers: take due refunds off the queue, send them to the provider, settle the outcome.

One round (`run_round`) is three steps, and only the middle one talks to the provider:
1. claim a batch in a short transaction (SKIP LOCKED, lease, attempt counted) and commit;
2. call the provider for each refund, outside any transaction, with the payment id as idempotency key;
3. settle the batch in a short transaction: REFUNDED, or back in the queue with exponential backoff, or
   REFUND_FAILED after the last attempt (logged, counted and alarmed).

So a refund is never sent twice (exclusive claims; a retry after a crash or a timeout reuses the key, which
the provider answers with the first refund) and never lost (the row stays REFUND_PENDING until an answer
is settled; a claim whose worker died falls due again when its lease runs out). See docs/refunds.md.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from uuid import UUID

from ticketing.config import get_settings
from ticketing.db import transaction
from ticketing.db.connection import Row
from ticketing.observability import count, logger
from ticketing.payments.provider import PaymentProvider, RefundResult, outside_transaction, payment_provider
from ticketing.payments.states import PaymentStatus
from ticketing.refunds import repository as repo

# Refunds one worker claims per round. Small, so a claim's lease covers the whole round comfortably.
BATCH_SIZE = 10
# How long a claim keeps other workers away: a round of BATCH_SIZE provider calls at their timeout must fit.
LEASE_SECONDS = 120.0
# Attempts before a refund is REFUND_FAILED; the waits between them double from the base up to the cap
# (30 s, 1, 2, 4, 8, 16, 32 min: about an hour of provider trouble before ops are called).
MAX_ATTEMPTS = 8
BACKOFF_BASE_SECONDS = 30.0
BACKOFF_MAX_SECONDS = 3600.0


@dataclass
class RefundReport:
    claimed: int = 0
    refunded: int = 0
    retrying: int = 0
    failed: int = 0
    rounds: int = 0

    def add(self, other: RefundReport) -> None:
        self.claimed += other.claimed
        self.refunded += other.refunded
        self.retrying += other.retrying
        self.failed += other.failed
        self.rounds += other.rounds

    def as_dict(self) -> dict[str, int]:
        return {
            "claimed": self.claimed,
            "refunded": self.refunded,
            "retrying": self.retrying,
            "failed": self.failed,
            "rounds": self.rounds,
        }


def _send(provider: PaymentProvider, refund: Row) -> RefundResult | str:
    """The provider's answer, or why there was none (an exception means the outcome is unknown: retried)."""
    outside_transaction()
    try:
        return provider.refund(
            reference=refund["reference"], amount=refund["amount"], idempotency_key=str(refund["id"])
        )
    except Exception as error:  # a timeout or transport error: unknown outcome, retried with the same key
        return f"{type(error).__name__}: {error}"


def run_round(
    provider: PaymentProvider | None = None, *, batch_size: int = BATCH_SIZE, booking_ids: Sequence[UUID] | None = None
) -> RefundReport:
    """Claims, sends and settles one batch of due refunds (of `booking_ids` only, when given)."""
    provider = provider or payment_provider()
    with transaction() as tx:
        claimed = repo.claim_due(tx, limit=batch_size, lease_seconds=LEASE_SECONDS, booking_ids=booking_ids)
    report = RefundReport(claimed=len(claimed), rounds=1)
    if not claimed:
        return report
    answers = [(refund, _send(provider, refund)) for refund in claimed]
    succeeded: list[tuple[Row, RefundResult]] = []
    failed: list[tuple[Row, str]] = []
    for refund, answer in answers:
        if isinstance(answer, RefundResult) and answer.succeeded:
            succeeded.append((refund, answer))
        else:
            failed.append((refund, _failure_reason(answer)))
    with transaction() as tx:
        if succeeded:
            report.refunded = repo.settle_refunded(
                tx, [refund["id"] for refund, _ in succeeded], [answer.reference for _, answer in succeeded]
            )
        given_up: list[Row] = []
        if failed:
            given_up = repo.settle_failed(
                tx,
                [refund["id"] for refund, _ in failed],
                [refund["refund_attempts"] for refund, _ in failed],
                [reason for _, reason in failed],
                max_attempts=MAX_ATTEMPTS,
                backoff_base_seconds=BACKOFF_BASE_SECONDS,
                backoff_max_seconds=BACKOFF_MAX_SECONDS,
            )
        final = [row for row in given_up if row["status"] == PaymentStatus.REFUND_FAILED]
    report.failed = len(final)
    report.retrying = len(failed) - len(final)
    for row in final:
        logger.error(
            "refund gave up after its last attempt; ops can retry it (docs/refunds.md)",
            extra={"paymentId": str(row["id"]), "bookingId": str(row["booking_id"]), "error": row["refund_last_error"]},
        )
    return report


def _failure_reason(answer: RefundResult | str) -> str:
    if isinstance(answer, str):
        return answer
    return f"refund refused: {answer.failure_code or 'unknown'}"


def drain(provider: PaymentProvider | None = None, *, deadline: float, batch_size: int = BATCH_SIZE) -> RefundReport:
    """Rounds until a round finds less than a full batch or `deadline` (time.monotonic()) has passed."""
    report = RefundReport()
    while time.monotonic() < deadline:
        done = run_round(provider, batch_size=batch_size)
        report.add(done)
        if done.claimed < batch_size:
            break
    return report


@cache
def _pool(workers: int) -> ThreadPoolExecutor:
    # Kept for the life of the execution environment: each thread keeps its own database connection warm.
    return ThreadPoolExecutor(max_workers=workers, thread_name_prefix="refund-worker")


def drain_with_workers(
    provider: PaymentProvider | None = None, *, deadline: float, workers: int | None = None
) -> RefundReport:
    """`workers` drains at once (threads, each with its own connection), so that many provider calls are in
    flight together; SKIP LOCKED splits the queue between them. Answers their sum and counts the metrics."""
    workers = workers or get_settings().refund_workers
    provider = provider or payment_provider()
    futures = [_pool(workers).submit(drain, provider, deadline=deadline) for _ in range(workers)]
    report = RefundReport()
    for future in futures:
        report.add(future.result())
    _count(report)
    return report


def refund_now(booking_ids: Sequence[UUID], provider: PaymentProvider | None = None) -> RefundReport:
    """Tries the due refunds of these bookings at once (a customer's cancel, right after its commit)."""
    report = run_round(provider, batch_size=max(len(booking_ids), 1), booking_ids=booking_ids)
    _count(report)
    return report


def retry_failed(payment_ids: Sequence[UUID] | None = None) -> list[Row]:
    """Ops' retry of REFUND_FAILED refunds (the given ones, or all): due now, with a fresh set of attempts."""
    with transaction() as tx:
        requeued = repo.requeue_failed(tx, payment_ids)
    logger.info("failed refunds requeued", extra={"count": len(requeued)})
    return requeued


def _count(report: RefundReport) -> None:
    count("RefundsSucceeded", report.refunded)
    count("RefundRetries", report.retrying)
    count("RefundsFailed", report.failed)
