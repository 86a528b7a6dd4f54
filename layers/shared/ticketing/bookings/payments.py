"""The payment-provider interface confirm and cancel charge and refund through, and its test-mode provider.

`PAYMENT_PROVIDER` picks the provider. `test` is the local default: Stripe-style test tokens, no money moves,
and the answer for a token is always the same, so it is documented and safe to use in any environment.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from typing import Protocol

from ticketing.config import get_settings
from ticketing.errors import ValidationFailed


class PaymentStatus(StrEnum):
    """A payment's life: a charge SUCCEEDED (or FAILED); a cancellation queues its refund (REFUND_PENDING),
    which a worker settles as REFUNDED, or REFUND_FAILED after its last attempt (docs/refunds.md)."""

    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    REFUND_PENDING = "REFUND_PENDING"
    REFUNDED = "REFUNDED"
    REFUND_FAILED = "REFUND_FAILED"


@dataclass(frozen=True)
class ChargeResult:
    succeeded: bool
    reference: str | None
    failure_code: str | None = None


@dataclass(frozen=True)
class RefundResult:
    succeeded: bool
    reference: str | None
    failure_code: str | None = None


class PaymentProvider(Protocol):
    name: str

    def charge(self, *, amount: int, currency: str, token: str, idempotency_key: str) -> ChargeResult:
        """Takes the payment. The same `idempotency_key` must never charge twice (a retry answers the first result)."""
        ...

    def refund(self, *, reference: str, amount: int, idempotency_key: str) -> RefundResult:
        """Refunds the charge `reference`. The same `idempotency_key` (our payment id) must never refund twice:
        a retry answers the first refund (Stripe's `Idempotency-Key`). Raising means the outcome is unknown
        (a timeout), so the caller retries with the same key. Never called inside a database transaction."""
        ...


class TestPaymentProvider:
    """Test mode: `tok_visa` and `tok_mastercard` succeed; the decline tokens below are declined with their code.
    `tok_refundFailsOnce` pays normally, but the first attempt to refund that payment fails.

    Any other token is a client error (422), as a real provider rejects a token it never issued. Refunds are
    recorded in `test_provider_refunds` (the provider's side of the books), one per idempotency key.
    """

    name = "test"
    __test__ = False  # not a pytest test class, despite its name

    SUCCEEDING_TOKENS = frozenset({"tok_visa", "tok_mastercard", "tok_amex"})
    REFUND_FAILS_ONCE_TOKEN = "tok_refundFailsOnce"
    # Charges made with REFUND_FAILS_ONCE_TOKEN carry it in their reference, as the provider remembers it.
    REFUND_FAILS_ONCE_PREFIX = "ch_test_rfo_"
    DECLINING_TOKENS = {
        "tok_chargeDeclined": "card_declined",
        "tok_chargeDeclinedInsufficientFunds": "insufficient_funds",
        "tok_chargeDeclinedExpiredCard": "expired_card",
        "tok_chargeDeclinedFraudulent": "fraudulent",
    }

    def charge(self, *, amount: int, currency: str, token: str, idempotency_key: str) -> ChargeResult:
        # Derived from the idempotency key, so a retried charge answers the same reference, like a real provider.
        reference = "ch_test_" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:24]
        if token in self.SUCCEEDING_TOKENS:
            return ChargeResult(succeeded=True, reference=reference)
        if token == self.REFUND_FAILS_ONCE_TOKEN:
            return ChargeResult(succeeded=True, reference=reference.replace("ch_test_", self.REFUND_FAILS_ONCE_PREFIX))
        if token in self.DECLINING_TOKENS:
            return ChargeResult(succeeded=False, reference=reference, failure_code=self.DECLINING_TOKENS[token])
        raise ValidationFailed.for_field(
            "paymentToken", "Unknown payment token; in test mode use tok_visa (or a tok_chargeDeclined* token)."
        )

    def refund(self, *, reference: str, amount: int, idempotency_key: str) -> RefundResult:
        from ticketing.db import transaction

        with transaction() as tx:
            attempt = tx.row(
                "INSERT INTO test_provider_refunds (idempotency_key, charge_reference, amount, attempts)"
                " VALUES (:key, :charge, :amount, 1) ON CONFLICT (idempotency_key)"
                " DO UPDATE SET attempts = test_provider_refunds.attempts + 1 RETURNING attempts, reference",
                key=idempotency_key,
                charge=reference,
                amount=amount,
            )
            if attempt is None:
                raise RuntimeError("the test provider could not record the refund attempt")
            if attempt["reference"] is not None:
                # The same key again: answer the refund already made, send nothing new.
                return RefundResult(succeeded=True, reference=attempt["reference"])
            if reference.startswith(self.REFUND_FAILS_ONCE_PREFIX) and attempt["attempts"] == 1:
                return RefundResult(succeeded=False, reference=None, failure_code="processing_error")
            refund_reference = "re_test_" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:24]
            tx.execute(
                "UPDATE test_provider_refunds SET reference = :reference, refunded_at = now()"
                " WHERE idempotency_key = :key",
                reference=refund_reference,
                key=idempotency_key,
            )
        return RefundResult(succeeded=True, reference=refund_reference)


_PROVIDERS: dict[str, type[PaymentProvider]] = {"test": TestPaymentProvider}


@cache
def payment_provider() -> PaymentProvider:
    name = get_settings().payment_provider
    if name not in _PROVIDERS:
        raise RuntimeError(f"PAYMENT_PROVIDER={name!r} is not one of {sorted(_PROVIDERS)}")
    return _PROVIDERS[name]()
