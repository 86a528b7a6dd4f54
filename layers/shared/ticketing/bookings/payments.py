"""The payment-provider interface confirm and cancel charge and refund through, and its test-mode provider.

`PAYMENT_PROVIDER` picks the provider. `test` is the local default: Stripe-style test tokens, no money moves,
and the answer for a token is always the same, so it is documented and safe to use in any environment.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from typing import Protocol

from ticketing.config import get_settings
from ticketing.errors import ValidationFailed


@dataclass(frozen=True)
class ChargeResult:
    succeeded: bool
    reference: str | None
    failure_code: str | None = None


@dataclass(frozen=True)
class RefundResult:
    succeeded: bool
    reference: str | None


class PaymentProvider(Protocol):
    name: str

    def charge(self, *, amount: int, currency: str, token: str, idempotency_key: str) -> ChargeResult:
        """Takes the payment. The same `idempotency_key` must never charge twice (a retry answers the first result)."""
        ...

    def refund(self, *, reference: str, amount: int) -> RefundResult: ...


class TestPaymentProvider:
    """Test mode: `tok_visa` and `tok_mastercard` succeed; the decline tokens below are declined with their code.

    Any other token is a client error (422), as a real provider rejects a token it never issued.
    """

    name = "test"
    __test__ = False  # not a pytest test class, despite its name

    SUCCEEDING_TOKENS = frozenset({"tok_visa", "tok_mastercard", "tok_amex"})
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
        if token in self.DECLINING_TOKENS:
            return ChargeResult(succeeded=False, reference=reference, failure_code=self.DECLINING_TOKENS[token])
        raise ValidationFailed.for_field(
            "paymentToken", "Unknown payment token; in test mode use tok_visa (or a tok_chargeDeclined* token)."
        )

    def refund(self, *, reference: str, amount: int) -> RefundResult:
        return RefundResult(succeeded=True, reference="re_test_" + reference.removeprefix("ch_test_"))


_PROVIDERS: dict[str, type[PaymentProvider]] = {"test": TestPaymentProvider}


@cache
def payment_provider() -> PaymentProvider:
    name = get_settings().payment_provider
    if name not in _PROVIDERS:
        raise RuntimeError(f"PAYMENT_PROVIDER={name!r} is not one of {sorted(_PROVIDERS)}")
    return _PROVIDERS[name]()
