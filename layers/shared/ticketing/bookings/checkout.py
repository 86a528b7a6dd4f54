"""Checkout (docs/payments.md): `pay` creates the booking's payment intent, `confirm` settles it.

No database transaction is open while the provider is called. Every path is record, commit, call, settle:
1. a short transaction checks the booking and records the attempt (a payments row; PROCESSING while a
   confirmation is with the provider) and commits;
2. the provider is called, outside any transaction;
3. `settlement.settle` writes its answer, through the one finalising transaction when the payment succeeded
   (which also stores the request's idempotent answer, when it has a key).

A crash or a timeout between 2 and 3 leaves the attempt open in the database: the provider's webhook or the
reconciliation settles it, so no payment stays unknown. A booking has at most one attempt in progress
(payments_one_open_attempt_key), so two requests can never have two intents charged for it.
"""

from __future__ import annotations

from uuid import UUID

from ticketing.auth.principal import Principal
from ticketing.bookings import settlement
from ticketing.bookings.closing import EXPIRED
from ticketing.bookings.models import BookingOut, ConfirmRequest, PaymentIntentOut, PayResult
from ticketing.bookings.service import (
    ExpectedVersion,
    StoreAnswer,
    booking_views,
    expired,
    version_conflict,
    visible_booking,
    visible_view,
)
from ticketing.catalog.events import repository as events_repo
from ticketing.config import get_settings
from ticketing.db import Session, transaction
from ticketing.db.connection import Row
from ticketing.errors import Conflict, DomainError, NotFound, PaymentDeclined, ServiceUnavailable, ValidationFailed
from ticketing.payments import repository as payments
from ticketing.payments.provider import ProviderUnavailable, payment_provider
from ticketing.payments.states import CHARGED, IN_FLIGHT, OPEN, PaymentStatus

PENDING = "PENDING"


class PaymentRequiresAction(DomainError):
    """402: the customer must act (authenticate with 3-D Secure, or give a payment method) through the provider's
    browser SDK with `details.clientSecret`, then confirm with `paymentId`."""

    status = 402
    code = "PAYMENT_REQUIRES_ACTION"


def _in_progress(payment_id: UUID) -> Conflict:
    return Conflict(
        "A payment for this booking is with the provider right now; retry in a moment.",
        code="PAYMENT_IN_PROGRESS",
        details={"paymentId": str(payment_id)},
        headers={"Retry-After": "2"},
    )


def _provider_unavailable(payment_id: UUID) -> ServiceUnavailable:
    return ServiceUnavailable(
        "The payment provider did not answer. The payment is kept and settled as soon as the provider answers;"
        " retry the confirm, or read the booking later.",
        code="PAYMENT_PROVIDER_UNAVAILABLE",
        details={"paymentId": str(payment_id)},
        headers={"Retry-After": "5"},
    )


def _payable(tx: Session, principal: Principal, booking_id: UUID) -> Row:
    """The caller's booking, PENDING and inside its payment window."""
    booking = visible_booking(tx, principal, booking_id, admin_allowed=False, for_update=True)
    _check_version(tx, booking, ExpectedVersion())
    return booking


def _attempt(tx: Session, booking: Row) -> tuple[Row, bool]:
    return payments.start_attempt(
        tx,
        booking_id=booking["id"],
        booking_version=booking["version"],
        amount=booking["total"],
        currency=booking["currency"],
        provider=payment_provider().name,
        check_after=booking["expires_at"],
    )


def _with_intent(payment: Row) -> Row:
    """The attempt with its provider intent, created now if it has none yet (no money moves on creation)."""
    if payment["reference"] is not None:
        return payment
    intent = payment_provider().create_intent(
        amount=payment["amount"],
        currency=payment["currency"],
        payment_id=str(payment["id"]),
        idempotency_key=str(payment["id"]),
    )
    with transaction() as tx:
        # The first intent recorded stays: a second one (a retried create the provider did not deduplicate)
        # is never confirmed, so it can never take money.
        recorded = payments.record_intent(tx, payment["id"], reference=intent.id, client_secret=intent.client_secret)
    if recorded is None:
        raise LookupError(f"payment {payment['id']} vanished")
    return recorded


def pay(principal: Principal, booking_id: UUID) -> PayResult:
    """The booking's payment intent, created once per booking version: a repeat answers the same one."""
    with transaction() as tx:
        booking = _payable(tx, principal, booking_id)
        if booking["total"] == 0:
            raise Conflict("This booking costs nothing: confirm it with any payment token.", code="NOTHING_TO_PAY")
        payment, _ = _attempt(tx, booking)
    try:
        payment = _with_intent(payment)
    except ProviderUnavailable:
        raise _provider_unavailable(payment["id"]) from None
    return PayResult(booking_id=booking_id, payment=PaymentIntentOut.from_row(payment))


def confirm(
    principal: Principal,
    booking_id: UUID,
    request: ConfirmRequest,
    expected: ExpectedVersion,
    store_answer: StoreAnswer | None = None,
) -> BookingOut:
    """`store_answer`: the transaction that confirms the booking stores the confirmed booking with it."""
    if not expected.given:
        raise ValidationFailed.for_field("version", "Send the booking's version in the body or as If-Match.")
    on_confirmed = _storing_answer(principal, booking_id, store_answer) if store_answer else None
    if request.payment_id is not None:
        settled = _confirm_payment(principal, booking_id, request.payment_id, expected, on_confirmed)
    else:
        settled = _charge(principal, booking_id, request, expected, on_confirmed)
    return _answer(principal, booking_id, settled)


def _storing_answer(principal: Principal, booking_id: UUID, store_answer: StoreAnswer) -> settlement.OnConfirmed:
    return lambda tx: store_answer(tx, visible_view(tx, principal, booking_id, admin_allowed=False))


def _check_version(tx: Session, booking: Row, expected: ExpectedVersion, *, payment_started: bool = False) -> None:
    """The booking can be paid now, at the version the client expects; checked before anything is recorded.
    With `payment_started` (a payment already with the provider), a PENDING booking past its window still is:
    the provider's answer decides, as it would for the webhook (docs/payments.md)."""
    # A stale If-Match is 412 whatever happened; an expired booking says so rather than "version conflict".
    expected.check_if_match(booking)
    if booking["status"] == EXPIRED or (
        booking["status"] == PENDING and booking["past_expiry"] and not payment_started
    ):
        raise expired(booking)
    expected.check_body(booking)
    if booking["status"] != PENDING:
        raise version_conflict(booking)
    event = events_repo.sale_state(tx, booking["event_id"])
    if event is None or event["status"] != "PUBLISHED":
        raise Conflict("This event is no longer on sale.", code="EVENT_NOT_ON_SALE")


def _confirm_payment(
    principal: Principal,
    booking_id: UUID,
    payment_id: UUID,
    expected: ExpectedVersion,
    on_confirmed: settlement.OnConfirmed | None,
) -> settlement.Settled:
    """Confirms with a payment the customer made through the provider's browser SDK: asks the provider."""
    with transaction() as tx:
        booking = visible_booking(tx, principal, booking_id, admin_allowed=False, for_update=False)
        payment = payments.find(tx, payment_id)
        if payment is None or payment["booking_id"] != booking_id:
            raise NotFound("No such payment for this booking.")
        if payment["status"] in CHARGED and not payment["late_refund"] and booking["status"] != PENDING:
            # Already settled by this very payment (a webhook came first): the confirm answers the booking.
            return settlement.Settled(settlement.Outcome.ALREADY_SETTLED, payment)
        started = payment["status"] in OPEN and payment["reference"] is not None
        _check_version(tx, booking, expected, payment_started=started)
    if payment["reference"] is None:
        raise PaymentRequiresAction(
            "This payment has not been started; call pay for its clientSecret.", details={"paymentId": str(payment_id)}
        )
    try:
        intent = payment_provider().retrieve_intent(payment["reference"])
        return settlement.settle(payment_id, intent, on_confirmed)
    except ProviderUnavailable:
        raise _provider_unavailable(payment_id) from None


def _charge(
    principal: Principal,
    booking_id: UUID,
    request: ConfirmRequest,
    expected: ExpectedVersion,
    on_confirmed: settlement.OnConfirmed | None,
) -> settlement.Settled:
    """Charge and confirm in one call: the attempt is recorded PROCESSING and committed before the provider is
    called with the token, then settled."""
    token = request.payment_token or ""
    with transaction() as tx:
        # Locked until this commits: the expiry job (SKIP LOCKED) and a cancel cannot end the booking between the
        # check and the attempt's record; once recorded, they see the payment in flight, or queue its refund.
        booking = visible_booking(tx, principal, booking_id, admin_allowed=False, for_update=True)
        in_flight = payments.open_attempt(tx, booking_id)
        past_window_in_flight = (
            in_flight is not None and in_flight["status"] in IN_FLIGHT and bool(booking["past_expiry"])
        )
        # Past the window only the payment already with the provider may still complete the booking.
        _check_version(tx, booking, expected, payment_started=past_window_in_flight)
        if in_flight is not None and past_window_in_flight:
            payment, created, started = in_flight, False, None
        else:
            if request.amount != booking["total"]:
                raise _amount_mismatch(booking)
            payment, created = _attempt(tx, booking)
            started = payments.begin_confirmation(
                tx, payment["id"], reconcile_after_seconds=get_settings().payment_reconcile_after_seconds
            )
    if started is None:
        return _settle_in_progress(payment, on_confirmed)
    try:
        with_intent = _with_intent(started)
        intent = payment_provider().confirm_intent(
            with_intent["reference"],
            payment_method=token,
            idempotency_key=f"{started['id']}-confirm-{started['confirm_attempts']}",
        )
    except ProviderUnavailable:
        raise _provider_unavailable(started["id"]) from None
    except ValidationFailed:
        # The provider refused the request itself (an unknown token): nothing was charged, nothing changes.
        with transaction() as tx:
            payments.undo_confirmation(tx, started["id"], discard=created)
        raise
    return settlement.settle(started["id"], intent, on_confirmed)


def _settle_in_progress(payment: Row, on_confirmed: settlement.OnConfirmed | None) -> settlement.Settled:
    """Another confirmation of this attempt is with the provider, or was left there by a crash: if the provider
    already knows how it ended, settle that; otherwise the caller retries in a moment."""
    if payment["reference"] is not None:
        try:
            intent = payment_provider().retrieve_intent(payment["reference"])
        except ProviderUnavailable:
            raise _in_progress(payment["id"]) from None
        if intent.status != PaymentStatus.PROCESSING and not (
            intent.status == PaymentStatus.REQUIRES_PAYMENT_METHOD and not intent.failure_code
        ):
            return settlement.settle(payment["id"], intent, on_confirmed)
    raise _in_progress(payment["id"])


def _amount_mismatch(booking: Row) -> ValidationFailed:
    return ValidationFailed(
        "The amount does not equal the booking's total.",
        code="AMOUNT_MISMATCH",
        details={
            "fields": [{"field": "amount", "message": f"Must be {booking['total']}."}],
            "total": booking["total"],
            "currency": booking["currency"],
        },
    )


def _answer(principal: Principal, booking_id: UUID, settled: settlement.Settled) -> BookingOut:
    """The confirm's answer for where the payment now stands: the confirmed booking, or why it is not."""
    payment = settled.payment
    status = PaymentStatus(payment["status"])
    details = {"paymentId": str(payment["id"]), "status": status.value}
    if status in (PaymentStatus.REQUIRES_ACTION, PaymentStatus.REQUIRES_PAYMENT_METHOD):
        raise PaymentRequiresAction(
            "The customer must complete this payment with the provider (3-D Secure, or another payment method).",
            details={**details, "clientSecret": payment["client_secret"]},
        )
    if status == PaymentStatus.PROCESSING:
        raise _in_progress(payment["id"])
    if status == PaymentStatus.FAILED:
        raise PaymentDeclined(
            "The payment was declined; the booking is still pending.",
            details={**details, "declineCode": payment["failure_code"]},
        )
    with transaction() as tx:
        booking = visible_booking(tx, principal, booking_id, admin_allowed=False, for_update=False)
        if payment["late_refund"]:
            error = expired(booking) if booking["status"] == EXPIRED else version_conflict(booking)
            error.details["paymentRefunded"] = True
            raise error
        return booking_views(tx, [booking])[0]
