"""All SQL of the payments table and of the webhook deliveries already handled (docs/payments.md).

Locking contract: a payment row is changed only by a short transaction, never while its provider is called.
Where a booking is involved too, its row is locked before its payment's (the order of the cancel, the expiry
and the finalising transaction), so they queue behind each other and never deadlock. State changes are
guarded by the states they may start from, so a late or repeated answer from the provider changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from ticketing.db import Session
from ticketing.db.connection import Row
from ticketing.db.id_set import IdSet
from ticketing.payments.states import CHARGED, IN_FLIGHT, OPEN, PaymentStatus, sql_list

_COLUMNS = (
    "id, booking_id, status, amount, currency, provider, reference, failure_code, created_at, booking_version,"
    " client_secret, confirm_attempts, late_refund, check_after"
)
_OPEN = sql_list(OPEN)
_CHARGED = sql_list(CHARGED)


# For the bookings' expiry: the booking (alias `b`) has a payment in flight, so its window stays open until the
# payment is settled (answered by the provider, or by the reconciliation). Uses payments_one_open_attempt_key.
def payment_in_flight(booking_id_column: str) -> str:
    """SQL: the booking whose id is in `booking_id_column` has a payment in flight (one probe of
    payments_one_open_attempt_key)."""
    return (
        f"EXISTS (SELECT 1 FROM payments p WHERE p.booking_id = {booking_id_column}"
        f" AND p.status IN ({_OPEN}) AND p.status IN ({sql_list(IN_FLIGHT)}))"
    )


BOOKING_HAS_PAYMENT_IN_FLIGHT = payment_in_flight("b.id")


def find(tx: Session, payment_id: UUID, *, for_update: bool = False) -> Row | None:
    lock = " FOR UPDATE" if for_update else ""
    return tx.row(f"SELECT {_COLUMNS} FROM payments WHERE id = :id{lock}", id=payment_id)


def find_by_reference(tx: Session, provider: str, reference: str) -> Row | None:
    return tx.row(
        f"SELECT {_COLUMNS} FROM payments WHERE reference = :reference AND provider = :provider"
        " ORDER BY created_at DESC LIMIT 1",
        reference=reference,
        provider=provider,
    )


def open_attempt(tx: Session, booking_id: UUID) -> Row | None:
    """The booking's attempt in progress, if any (there is at most one)."""
    return tx.row(
        f"SELECT {_COLUMNS} FROM payments WHERE booking_id = :booking_id AND status IN ({_OPEN})",
        booking_id=booking_id,
    )


def start_attempt(
    tx: Session,
    *,
    booking_id: UUID,
    booking_version: int,
    amount: int,
    currency: str,
    provider: str,
    check_after: datetime,
) -> tuple[Row, bool]:
    """The booking's attempt in progress, and whether this call started it: a new one (REQUIRES_PAYMENT_METHOD,
    no intent yet), or the one that already is, when another request started it first."""
    created = tx.row(
        "INSERT INTO payments (booking_id, booking_version, status, amount, currency, provider, check_after)"
        " VALUES (:booking_id, :version, 'REQUIRES_PAYMENT_METHOD', :amount, :currency, :provider, :check_after)"
        f" ON CONFLICT (booking_id) WHERE status IN ({_OPEN}) DO NOTHING RETURNING {_COLUMNS}",
        booking_id=booking_id,
        version=booking_version,
        amount=amount,
        currency=currency,
        provider=provider,
        check_after=check_after,
    )
    row = created or open_attempt(tx, booking_id)
    if row is None:
        raise LookupError("the booking's payment attempt vanished while it was being started")
    return row, created is not None


def record_intent(tx: Session, payment_id: UUID, *, reference: str, client_secret: str | None) -> Row | None:
    """Records the provider's intent of an attempt, once: the first recorded stays (answers the row as it is)."""
    tx.execute(
        "UPDATE payments SET reference = :reference, client_secret = :secret, updated_at = now()"
        " WHERE id = :id AND reference IS NULL",
        reference=reference,
        secret=client_secret,
        id=payment_id,
    )
    return find(tx, payment_id)


def begin_confirmation(tx: Session, payment_id: UUID, *, reconcile_after_seconds: int) -> Row | None:
    """PROCESSING, one more confirmation counted: the attempt is with the provider from now until it is settled.
    None when another confirmation already is (or the attempt has ended)."""
    return tx.row(
        "UPDATE payments SET status = 'PROCESSING', confirm_attempts = confirm_attempts + 1, updated_at = now(),"
        " check_after = now() + make_interval(secs => :after)"
        " WHERE id = :id AND status IN ('REQUIRES_PAYMENT_METHOD', 'REQUIRES_ACTION')"
        f" RETURNING {_COLUMNS}",
        id=payment_id,
        after=reconcile_after_seconds,
    )


def mark_open(tx: Session, payment_id: UUID, status: PaymentStatus, *, reconcile_after_seconds: int) -> Row | None:
    """An open attempt's new state as the provider answered it (the reconciliation looks again later)."""
    return tx.row(
        "UPDATE payments SET status = :status, updated_at = now(), check_after = now() + make_interval(secs => :after)"
        f" WHERE id = :id AND status IN ({_OPEN}) RETURNING {_COLUMNS}",
        status=status,
        after=reconcile_after_seconds,
        id=payment_id,
    )


def undo_confirmation(tx: Session, payment_id: UUID, *, discard: bool) -> None:
    """The provider refused a confirmation outright (nothing was charged): the attempt goes back to waiting for a
    payment method, or, when the refused request had started it, is removed, so that a refused request changes
    nothing."""
    if discard:
        tx.execute("DELETE FROM payments WHERE id = :id AND status = 'PROCESSING'", id=payment_id)
        return
    tx.execute(
        "UPDATE payments SET status = 'REQUIRES_PAYMENT_METHOD', updated_at = now()"
        " WHERE id = :id AND status = 'PROCESSING'",
        id=payment_id,
    )


def check_later(tx: Session, payment_id: UUID, when: datetime) -> None:
    tx.execute(
        f"UPDATE payments SET check_after = :when WHERE id = :id AND status IN ({_OPEN})", when=when, id=payment_id
    )


def mark_failed(tx: Session, payment_id: UUID, failure_code: str) -> Row | None:
    """Ends an open attempt as FAILED (declined, cancelled, abandoned)."""
    return tx.row(
        "UPDATE payments SET status = 'FAILED', failure_code = :code, check_after = NULL, updated_at = now()"
        f" WHERE id = :id AND status IN ({_OPEN}) RETURNING {_COLUMNS}",
        code=failure_code[:100],
        id=payment_id,
    )


def mark_succeeded(tx: Session, payment_id: UUID) -> None:
    """The booking's payment: only inside the finalising transaction, with the booking confirmed."""
    tx.execute(
        "UPDATE payments SET status = 'SUCCEEDED', failure_code = NULL, check_after = NULL, updated_at = now()"
        " WHERE id = :id",
        id=payment_id,
    )


def queue_late_refund(tx: Session, payment_id: UUID) -> None:
    """A charge that came after its booking ended: refunded through the queue at once, not the booking's payment."""
    tx.execute(
        "UPDATE payments SET status = 'REFUND_PENDING', late_refund = true, failure_code = NULL,"
        " check_after = NULL, updated_at = now(), refund_requested_at = now(), refund_due_at = now()"
        " WHERE id = :id",
        id=payment_id,
    )


def queue_refunds(tx: Session, booking_ids: IdSet) -> int:
    """Turns the bookings' succeeded charges into queued refunds (REFUND_PENDING, due now); answers how many.
    Their attempts still open are looked at by the reconciliation at once, which cancels their intents.

    Nothing is sent here: the refund workers take them after commit (docs/refunds.md).
    """
    tx.execute(
        f"UPDATE payments SET check_after = now() WHERE booking_id = ANY(CAST(:ids AS uuid[])) AND status IN ({_OPEN})",
        ids=booking_ids.literal,
    )
    return tx.execute(
        "UPDATE payments SET status = 'REFUND_PENDING', refund_requested_at = now(), refund_due_at = now()"
        " WHERE booking_id = ANY(CAST(:ids AS uuid[])) AND status = 'SUCCEEDED'",
        ids=booking_ids.literal,
    )


def payments_of(tx: Session, booking_ids: Sequence[UUID]) -> list[Row]:
    """Per booking, the payment a client sees: the charge that counts, else the latest attempt."""
    # Each branch reads one partial index (migrations 0012 and 0016): counted charges, failed and open attempts,
    # late refunds.
    branches = (
        f"status IN ({_CHARGED}) AND NOT late_refund",
        "status = 'FAILED'",
        f"status IN ({_OPEN})",
        "late_refund",
    )
    union = " UNION ALL ".join(
        f"SELECT {_COLUMNS} FROM payments WHERE booking_id = ANY(CAST(:ids AS uuid[])) AND {branch}"
        for branch in branches
    )
    return tx.rows(
        f"SELECT DISTINCT ON (booking_id) {_COLUMNS} FROM ({union}) attempts"
        f" ORDER BY booking_id, (status IN ({_CHARGED}) AND NOT late_refund) DESC, created_at DESC, id",
        ids=list(booking_ids),
    )


def claim_for_reconciliation(
    tx: Session, *, provider: str, limit: int, lease_seconds: float, booking_id: UUID | None = None
) -> list[Row]:
    """`provider`'s open payments whose check is due (all of one booking's, due or not, when `booking_id` is
    given), oldest first, skipping rows another transaction holds; each is pushed a lease ahead so that no other
    run takes it while this one asks the provider."""
    return tx.rows(
        "UPDATE payments SET check_after = now() + make_interval(secs => :lease) WHERE id IN ("
        f" SELECT id FROM payments WHERE status IN ({_OPEN}) AND provider = :provider"
        "  AND ((CAST(:booking_id AS uuid) IS NULL AND check_after <= now()) OR booking_id = CAST(:booking_id AS uuid))"
        "  ORDER BY check_after LIMIT :limit FOR UPDATE SKIP LOCKED)"
        f" RETURNING {_COLUMNS}",
        lease=lease_seconds,
        limit=limit,
        booking_id=booking_id,
        provider=provider,
    )


def reconciliation_backlog(tx: Session, *, overdue_seconds: int) -> int:
    """Open payments whose check is overdue by more than `overdue_seconds` (the alarm's metric)."""
    overdue: int = tx.value(
        f"SELECT count(*) FROM payments WHERE status IN ({_OPEN})"
        " AND check_after <= now() - make_interval(secs => :overdue)",
        overdue=overdue_seconds,
    )
    return overdue


def webhook_seen(tx: Session, provider: str, event_id: str) -> bool:
    seen: bool = tx.value(
        "SELECT EXISTS (SELECT 1 FROM payment_webhook_events WHERE provider = :provider AND event_id = :event_id)",
        provider=provider,
        event_id=event_id,
    )
    return seen


def record_webhook(tx: Session, provider: str, event_id: str, event_type: str) -> None:
    tx.execute(
        "INSERT INTO payment_webhook_events (provider, event_id, event_type) VALUES (:provider, :event_id, :type)"
        " ON CONFLICT DO NOTHING",
        provider=provider,
        event_id=event_id[:255],
        type=event_type[:255],
    )
