"""All SQL of the refund queue: queued refunds are payments in REFUND_PENDING (docs/refunds.md).

Locking contract: a worker *claims* due refunds in one short transaction (`FOR UPDATE SKIP LOCKED`, so two
workers never take the same row and never wait for each other), pushes their `refund_due_at` past a lease
and counts the attempt, then commits: no row lock is held while the provider is called. The outcome is
settled in another short transaction. A worker that dies after its claim leaves the refund pending; it is
due again when the lease runs out and is retried with the same idempotency key.
"""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from ticketing.db import Session
from ticketing.db.connection import Row

_DUE = "status = 'REFUND_PENDING' AND refund_due_at <= now()"


def claim_due(tx: Session, *, limit: int, lease_seconds: float, booking_ids: Sequence[UUID] | None = None) -> list[Row]:
    """Claims up to `limit` due refunds (of `booking_ids` only, when given), oldest due first."""
    return tx.rows(
        "UPDATE payments SET refund_attempts = refund_attempts + 1,"
        " refund_due_at = now() + make_interval(secs => :lease)"
        " WHERE id IN ("
        f"  SELECT id FROM payments WHERE {_DUE}"
        "   AND (CAST(:booking_ids AS uuid[]) IS NULL OR booking_id = ANY(CAST(:booking_ids AS uuid[])))"
        "  ORDER BY refund_due_at LIMIT :limit FOR UPDATE SKIP LOCKED)"
        " RETURNING id, booking_id, amount, currency, reference, refund_attempts",
        limit=limit,
        lease=lease_seconds,
        booking_ids=None if booking_ids is None else list(booking_ids),
    )


def settle_refunded(tx: Session, payment_ids: Sequence[UUID], references: Sequence[str | None]) -> int:
    """Marks the refunds the provider made as REFUNDED. A success is final whoever claimed the row last."""
    return tx.execute(
        "UPDATE payments p SET status = 'REFUNDED', refunded_at = now(), refund_reference = s.reference,"
        " refund_due_at = NULL, refund_last_error = NULL"
        " FROM unnest(CAST(:ids AS uuid[]), CAST(:references AS text[])) AS s (id, reference)"
        " WHERE p.id = s.id AND p.status = 'REFUND_PENDING'",
        ids=list(payment_ids),
        references=list(references),
    )


def settle_failed(
    tx: Session,
    payment_ids: Sequence[UUID],
    attempts: Sequence[int],
    errors: Sequence[str],
    *,
    max_attempts: int,
    backoff_base_seconds: float,
    backoff_max_seconds: float,
) -> list[Row]:
    """Puts failed attempts back with exponential backoff (base x 2^(attempt-1), capped), or marks them
    REFUND_FAILED after `max_attempts`. Only the claim that is still current settles: a row someone else
    has claimed since (our lease ran out) is theirs now. Answers the rows it gave up on."""
    return tx.rows(
        "UPDATE payments p SET"
        " status = CASE WHEN p.refund_attempts >= :max_attempts THEN 'REFUND_FAILED' ELSE 'REFUND_PENDING' END,"
        " refund_due_at = CASE WHEN p.refund_attempts >= :max_attempts THEN NULL"
        "  ELSE now() + make_interval(secs => LEAST(:cap, :base * power(2, p.refund_attempts - 1))) END,"
        " refund_last_error = left(s.error, 1000)"
        " FROM unnest(CAST(:ids AS uuid[]), CAST(:attempts AS integer[]), CAST(:errors AS text[]))"
        "  AS s (id, attempt, error)"
        " WHERE p.id = s.id AND p.status = 'REFUND_PENDING' AND p.refund_attempts = s.attempt"
        " RETURNING p.id, p.booking_id, p.status, p.refund_attempts, p.refund_last_error",
        ids=list(payment_ids),
        attempts=list(attempts),
        errors=list(errors),
        max_attempts=max_attempts,
        base=backoff_base_seconds,
        cap=backoff_max_seconds,
    )


def requeue_failed(tx: Session, payment_ids: Sequence[UUID] | None) -> list[Row]:
    """Ops' retry: REFUND_FAILED refunds (these, or all when None) become due now with fresh attempts."""
    return tx.rows(
        "UPDATE payments SET status = 'REFUND_PENDING', refund_due_at = now(), refund_attempts = 0"
        " WHERE status = 'REFUND_FAILED'"
        " AND (CAST(:ids AS uuid[]) IS NULL OR id = ANY(CAST(:ids AS uuid[])))"
        " RETURNING id, booking_id",
        ids=None if payment_ids is None else list(payment_ids),
    )


def event_refund_counts(tx: Session, event_id: UUID) -> Row:
    """Refunds of the event's bookings still queued and given up on."""
    row = tx.row(
        "SELECT count(*) FILTER (WHERE p.status = 'REFUND_PENDING') AS pending,"
        " count(*) FILTER (WHERE p.status = 'REFUND_FAILED') AS failed"
        " FROM payments p JOIN bookings b ON b.id = p.booking_id"
        " WHERE b.event_id = :event_id AND p.status IN ('REFUND_PENDING', 'REFUND_FAILED')",
        event_id=event_id,
    )
    return row or {"pending": 0, "failed": 0}


def due_count(tx: Session) -> int:
    due: int = tx.value(f"SELECT count(*) FROM payments WHERE {_DUE}")
    return due
