"""The test-mode payment provider: Stripe-style test tokens, no money moves (docs/payments.md).

`tok_visa`, `tok_mastercard` and `tok_amex` pay; the `tok_chargeDeclined*` tokens are declined with their
code; `tok_threeDSecure` needs the customer's authentication first (REQUIRES_ACTION, completed locally with
`authenticate`, as `python -m devtools.payments authenticate <paymentId>` does); `tok_refundFailsOnce` pays, but
the first attempt to refund it fails. Any other token is a client error (422), as a real provider rejects a
payment method it never issued.

Its books live in the database, in its own tables (`test_provider_intents`, `test_provider_refunds`), so every
process sees the same intents, as with a real provider. Those are the provider's transactions, not ours: like
any provider call, each method runs outside the caller's transaction.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from typing import Any

from ticketing.config import get_settings
from ticketing.db import Session, transaction
from ticketing.db.connection import Row
from ticketing.errors import ValidationFailed
from ticketing.payments.provider import (
    ChargeBooks,
    Intent,
    InvalidWebhook,
    RefundResult,
    WebhookEvent,
    outside_transaction,
)
from ticketing.payments.states import PaymentStatus
from ticketing.payments.test_provider_faults import apply_injected_fault

_STATES = {
    "requires_payment_method": PaymentStatus.REQUIRES_PAYMENT_METHOD,
    "requires_action": PaymentStatus.REQUIRES_ACTION,
    "processing": PaymentStatus.PROCESSING,
    "succeeded": PaymentStatus.SUCCEEDED,
    "canceled": PaymentStatus.FAILED,
}
_INTENT_COLUMNS = "id, status, amount, currency, client_secret, failure_code, payment_method, confirmations"


class TestPaymentProvider:
    name = "test"
    __test__ = False  # not a pytest test class, despite its name

    SUCCEEDING_TOKENS = frozenset({"tok_visa", "tok_mastercard", "tok_amex"})
    REFUND_FAILS_ONCE_TOKEN = "tok_refundFailsOnce"
    THREE_D_SECURE_TOKEN = "tok_threeDSecure"
    DECLINING_TOKENS = {
        "tok_chargeDeclined": "card_declined",
        "tok_chargeDeclinedInsufficientFunds": "insufficient_funds",
        "tok_chargeDeclinedExpiredCard": "expired_card",
        "tok_chargeDeclinedFraudulent": "fraudulent",
    }

    def _call(self) -> None:
        """What every call to a provider starts with: never inside our transaction, and it takes its time."""
        outside_transaction()
        latency_ms = get_settings().payment_test_latency_ms
        if latency_ms:
            time.sleep(latency_ms / 1000)
        apply_injected_fault()

    def create_intent(self, *, amount: int, currency: str, payment_id: str, idempotency_key: str) -> Intent:
        self._call()
        intent_id = "pi_test_" + secrets.token_hex(12)
        with transaction() as tx:
            # The same key again answers the intent it created first, as Stripe's Idempotency-Key does.
            tx.execute(
                "INSERT INTO test_provider_intents (id, idempotency_key, amount, currency, status, client_secret,"
                " metadata) VALUES (:id, :key, :amount, :currency, 'requires_payment_method', :secret,"
                " CAST(:metadata AS jsonb)) ON CONFLICT (idempotency_key) DO NOTHING",
                id=intent_id,
                key=idempotency_key,
                amount=amount,
                currency=currency,
                secret=f"{intent_id}_secret_{secrets.token_hex(8)}",
                metadata=json.dumps({"payment_id": payment_id}),
            )
            row = tx.row(
                f"SELECT {_INTENT_COLUMNS} FROM test_provider_intents WHERE idempotency_key = :key", key=idempotency_key
            )
        return _intent(_found(row))

    def confirm_intent(self, intent_id: str, *, payment_method: str, idempotency_key: str) -> Intent:
        self._call()
        outcome = self._outcome_of(payment_method)
        with transaction() as tx:
            current = _read(tx, intent_id, for_update=True)
            # A confirmation retried with its key answers what the first did; one on a settled intent changes nothing.
            if idempotency_key in current["confirmations"] or current["status"] != "requires_payment_method":
                return _intent(current)
            status, failure_code = outcome
            row = tx.row(
                "UPDATE test_provider_intents SET status = :status, failure_code = :failure_code,"
                " payment_method = :payment_method, confirmations = confirmations || CAST(:key AS text),"
                f" updated_at = now() WHERE id = :id RETURNING {_INTENT_COLUMNS}",
                status=status,
                failure_code=failure_code,
                payment_method=payment_method,
                key=idempotency_key,
                id=intent_id,
            )
        return _intent(_found(row))

    def _outcome_of(self, token: str) -> tuple[str, str | None]:
        if token in self.SUCCEEDING_TOKENS or token == self.REFUND_FAILS_ONCE_TOKEN:
            return "succeeded", None
        if token == self.THREE_D_SECURE_TOKEN:
            return "requires_action", None
        if token in self.DECLINING_TOKENS:
            return "requires_payment_method", self.DECLINING_TOKENS[token]
        raise ValidationFailed.for_field(
            "paymentToken", "Unknown payment token; in test mode use tok_visa (or a tok_chargeDeclined* token)."
        )

    def retrieve_intent(self, intent_id: str) -> Intent:
        self._call()
        with transaction() as tx:
            return _intent(
                _found(tx.row(f"SELECT {_INTENT_COLUMNS} FROM test_provider_intents WHERE id = :id", id=intent_id))
            )

    def cancel_intent(self, intent_id: str) -> Intent:
        self._call()
        with transaction() as tx:
            tx.execute(
                "UPDATE test_provider_intents SET status = 'canceled', updated_at = now()"
                " WHERE id = :id AND status IN ('requires_payment_method', 'requires_action')",
                id=intent_id,
            )
            return _intent(
                _found(tx.row(f"SELECT {_INTENT_COLUMNS} FROM test_provider_intents WHERE id = :id", id=intent_id))
            )

    def authenticate(self, intent_id: str, *, success: bool = True) -> Intent:
        """The customer's 3-D Secure step, done locally: the intent pays, or goes back to needing a payment
        method when the authentication fails (as Stripe's test cards behave)."""
        outside_transaction()
        with transaction() as tx:
            row = tx.row(
                "UPDATE test_provider_intents SET"
                " status = CASE WHEN :success THEN 'succeeded' ELSE 'requires_payment_method' END,"
                " failure_code = CASE WHEN :success THEN NULL ELSE 'authentication_failed' END, updated_at = now()"
                f" WHERE id = :id AND status = 'requires_action' RETURNING {_INTENT_COLUMNS}",
                success=success,
                id=intent_id,
            )
            return _intent(row or _read(tx, intent_id))

    def refund(self, *, reference: str, amount: int, idempotency_key: str) -> RefundResult:
        self._call()
        with transaction() as tx:
            attempt = _found(
                tx.row(
                    "INSERT INTO test_provider_refunds (idempotency_key, charge_reference, amount, attempts)"
                    " VALUES (:key, :charge, :amount, 1) ON CONFLICT (idempotency_key)"
                    " DO UPDATE SET attempts = test_provider_refunds.attempts + 1 RETURNING attempts, reference",
                    key=idempotency_key,
                    charge=reference,
                    amount=amount,
                )
            )
            if attempt["reference"] is not None:
                # The same key again: answer the refund already made, send nothing new.
                return RefundResult(succeeded=True, reference=attempt["reference"])
            method = tx.value("SELECT payment_method FROM test_provider_intents WHERE id = :id", id=reference)
            if method == self.REFUND_FAILS_ONCE_TOKEN and attempt["attempts"] == 1:
                return RefundResult(succeeded=False, reference=None, failure_code="processing_error")
            refund_reference = "re_test_" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:24]
            tx.execute(
                "UPDATE test_provider_refunds SET reference = :reference, refunded_at = now()"
                " WHERE idempotency_key = :key",
                reference=refund_reference,
                key=idempotency_key,
            )
        return RefundResult(succeeded=True, reference=refund_reference)

    def charge_books(self, intent_id: str) -> ChargeBooks:
        self._call()
        with transaction() as tx:
            intent = _read(tx, intent_id)
            refunds = tx.rows(
                "SELECT reference, amount FROM test_provider_refunds"
                " WHERE charge_reference = :id AND reference IS NOT NULL ORDER BY refunded_at",
                id=intent_id,
            )
        return ChargeBooks(
            intent_id=intent_id,
            charged=intent["status"] == "succeeded",
            amount=intent["amount"],
            refunds=tuple((refund["reference"], refund["amount"]) for refund in refunds),
        )

    def verify_webhook(self, payload: bytes, headers: dict[str, str]) -> WebhookEvent:
        raise InvalidWebhook("The test provider sends no webhooks; confirm the payment through the API instead.")


def _read(tx: Session, intent_id: str, *, for_update: bool = False) -> Row:
    lock = " FOR UPDATE" if for_update else ""
    return _found(tx.row(f"SELECT {_INTENT_COLUMNS} FROM test_provider_intents WHERE id = :id{lock}", id=intent_id))


def _found(row: Row | None) -> Row:
    if row is None:
        raise LookupError("the test provider has no such intent")
    return row


def _intent(row: dict[str, Any]) -> Intent:
    return Intent(
        id=row["id"],
        status=_STATES[row["status"]],
        amount=row["amount"],
        currency=row["currency"],
        client_secret=row["client_secret"],
        failure_code=row["failure_code"],
    )
