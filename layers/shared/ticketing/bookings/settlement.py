"""Settling a payment the provider has answered for: the one finalising transaction, and everything else a
provider's answer can mean for a booking (docs/payments.md).

Three callers reach the same `settle`, whichever comes first, any number of times: the client's confirm, the
provider's webhook and the reconciliation. Each has asked the provider outside any transaction; `settle` then
writes the answer in one short transaction, guarded so that only the first answer that counts changes anything:

- SUCCEEDED: `finalise` locks the booking, then its payment. If the payment is already settled, nothing
  happens. Otherwise the guarded version UPDATE confirms the booking (seats BOOKED, tickets issued, payment
  SUCCEEDED, notification, domain event). If the booking ended meanwhile (expired, cancelled, or paid by another
  attempt), the charge is refunded through the queue instead and the customer is told (PAYMENT_REFUNDED_LATE).
- REQUIRES_ACTION, PROCESSING, REQUIRES_PAYMENT_METHOD: the attempt stays open in that state; the
  reconciliation looks again later.
- declined: the intent is cancelled at the provider (so it can never be charged later), and the attempt FAILED.
- cancelled at the provider, or never reached it: FAILED.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from uuid import UUID

from ticketing import domain_events
from ticketing.bookings import repository as repo
from ticketing.bookings.closing import booking_payload
from ticketing.catalog.events import repository as events_repo
from ticketing.config import get_settings
from ticketing.db import Session, transaction
from ticketing.db.connection import Row
from ticketing.notifications.repository import notify
from ticketing.observability import count
from ticketing.payments import repository as payments
from ticketing.payments.provider import Intent, payment_provider
from ticketing.payments.states import CHARGED, OPEN, PaymentStatus
from ticketing.tickets import repository as tickets_repo


class Outcome(StrEnum):
    CONFIRMED = "confirmed"
    ALREADY_SETTLED = "alreadySettled"
    REFUNDED_LATE = "refundedLate"
    REQUIRES_ACTION = "requiresAction"
    REQUIRES_PAYMENT_METHOD = "requiresPaymentMethod"
    PROCESSING = "processing"
    FAILED = "failed"


_OPEN_OUTCOMES = {
    PaymentStatus.REQUIRES_ACTION: Outcome.REQUIRES_ACTION,
    PaymentStatus.REQUIRES_PAYMENT_METHOD: Outcome.REQUIRES_PAYMENT_METHOD,
    PaymentStatus.PROCESSING: Outcome.PROCESSING,
    PaymentStatus.FAILED: Outcome.FAILED,
}


@dataclass(frozen=True)
class Settled:
    outcome: Outcome
    payment: Row


# Called inside the finalising transaction once it has confirmed the booking: the client's confirm stores its
# idempotent answer there, so that it commits with the confirmation (ticketing.http.idempotency).
OnConfirmed = Callable[[Session], None]


def settle(payment_id: UUID, intent: Intent | None, on_confirmed: OnConfirmed | None = None) -> Settled:
    """Writes what the provider answered about this payment's intent (None: it never reached the provider)."""
    if intent is None:
        return _fail(payment_id, "abandoned")
    if intent.status == PaymentStatus.SUCCEEDED:
        return finalise(payment_id, on_confirmed)
    if intent.status == PaymentStatus.FAILED:
        return _fail(payment_id, intent.failure_code or "canceled")
    if intent.status == PaymentStatus.REQUIRES_PAYMENT_METHOD and intent.failure_code:
        # Declined. Cancel the intent, so that no later attempt on it can take money nobody watches any more.
        cancelled = payment_provider().cancel_intent(intent.id)
        if cancelled.status == PaymentStatus.SUCCEEDED:
            return finalise(payment_id, on_confirmed)
        if cancelled.status == PaymentStatus.FAILED:
            return _fail(payment_id, intent.failure_code)
        # Not cancelled: the customer is paying it again right now (processing, 3-D Secure). It stays open and
        # watched; the reconciliation asks again.
        intent = cancelled
    after = get_settings().payment_reconcile_after_seconds
    with transaction() as tx:
        row = payments.mark_open(tx, payment_id, intent.status, reconcile_after_seconds=after) or _payment(
            tx, payment_id
        )
    return Settled(_OPEN_OUTCOMES.get(PaymentStatus(row["status"]), Outcome.ALREADY_SETTLED), row)


def _payment(tx: Session, payment_id: UUID) -> Row:
    row = payments.find(tx, payment_id)
    if row is None:
        raise LookupError(f"no payment {payment_id}")
    return row


def _fail(payment_id: UUID, failure_code: str) -> Settled:
    with transaction() as tx:
        failed = payments.mark_failed(tx, payment_id, failure_code)
        row = failed or _payment(tx, payment_id)
    if failed is None:
        return Settled(Outcome.ALREADY_SETTLED, row)
    count("PaymentsFailed")
    return Settled(Outcome.FAILED, row)


def finalise(payment_id: UUID, on_confirmed: OnConfirmed | None = None) -> Settled:
    """The finalising transaction of a payment the provider holds as SUCCEEDED; exactly once, whoever calls."""
    with transaction() as tx:
        booking_id = _payment(tx, payment_id)["booking_id"]
        # Locks in the order an event cancellation takes them (the event, then its bookings) and then the
        # payment (as cancel and expiry do after the booking): nothing waits in a cycle. The event's share lock
        # keeps it from being cancelled until this commits (it waits for us).
        event = events_repo.sale_state(tx, _booking(tx, booking_id)["event_id"], share_lock=True)
        repo.find_booking(tx, booking_id, for_update=True)
        payment = payments.find(tx, payment_id, for_update=True) or _payment(tx, payment_id)
        if payment["status"] in CHARGED:
            return Settled(Outcome.ALREADY_SETTLED, payment)
        # A booking still PENDING past its expiresAt still owns its seats (a hold expires it before taking them,
        # and the expiry job waits for a payment in flight): money the provider took for an open attempt confirms
        # it; once the booking has EXPIRED, the guard fails and the money is refunded below.
        confirmed = (
            repo.confirm_booking(
                tx, booking_id, payment["booking_version"], allow_past_expiry=payment["status"] in OPEN
            )
            if event is not None and event["status"] == "PUBLISHED"
            else None
        )
        if confirmed is None:
            payments.queue_late_refund(tx, payment_id)
            notify(
                tx,
                user_id=_booking(tx, booking_id)["user_id"],
                type="PAYMENT_REFUNDED_LATE",
                title="Payment refunded",
                body="Your payment arrived after the booking had ended, so it is being refunded in full.",
                data={"bookingId": str(booking_id), "paymentId": str(payment_id)},
            )
        else:
            # The status-copy trigger (migration 0006) copies CONFIRMED into the booking's items and seats here,
            # locking the seat rows; mark_seats_booked then books them.
            repo.mark_seats_booked(tx, booking_id)
            count("TicketsIssued", tickets_repo.issue_for_booking(tx, booking_id))
            payments.mark_succeeded(tx, payment_id)
            notify(
                tx,
                user_id=confirmed["user_id"],
                type="BOOKING_CONFIRMED",
                title="Booking confirmed",
                body="Your booking is confirmed and paid.",
                data={"bookingId": str(booking_id), "eventId": str(confirmed["event_id"])},
            )
            domain_events.record(tx, event_type=domain_events.BOOKING_CONFIRMED, payload=booking_payload(confirmed))
            if on_confirmed is not None:
                on_confirmed(tx)
        payment = _payment(tx, payment_id)
    if confirmed is None:
        count("PaymentsRefundedLate")
        # Imported here: only a late payment needs the refund workers, right after its commit.
        from ticketing.refunds.worker import refund_now

        refund_now([booking_id])
        with transaction() as tx:
            return Settled(Outcome.REFUNDED_LATE, _payment(tx, payment_id))
    count("BookingsConfirmed")
    domain_events.publish_after_commit()
    return Settled(Outcome.CONFIRMED, payment)


def _booking(tx: Session, booking_id: UUID) -> Row:
    booking = repo.find_booking(tx, booking_id)
    if booking is None:
        raise LookupError(f"no booking {booking_id}")
    return booking


def reconcile_payment(payment: Row, intent: Intent | None) -> str:
    """The reconciliation's settle: an intent the customer could still act on is cancelled at the provider once
    its booking can no longer be paid (ended, or past its window); every other answer is settled as it is."""
    customer_can_act = intent is not None and intent.status in (
        PaymentStatus.REQUIRES_PAYMENT_METHOD,
        PaymentStatus.REQUIRES_ACTION,
    )
    if intent is not None and customer_can_act and not intent.failure_code:
        with transaction() as tx:
            booking = repo.find_booking(tx, payment["booking_id"])
        if booking is None or booking["status"] != "PENDING" or booking["past_expiry"]:
            intent = payment_provider().cancel_intent(intent.id)
    return settle(payment["id"], intent).outcome.value
