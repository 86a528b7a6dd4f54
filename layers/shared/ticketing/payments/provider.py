"""The payment-provider interface: payment intents, refunds and signed webhooks (docs/payments.md).

`PAYMENT_PROVIDER` picks the provider: `test` (the local default: Stripe-style test tokens, no money moves) or
`stripe` (the Stripe API through the official SDK; localstripe locally). Each provider's module is imported only
when it is the one configured, so a function never loads the Stripe SDK it does not use.

Every method is a call to someone else's system: it is never made inside a database transaction
(`outside_transaction` refuses), and it is bounded in time. Raising `ProviderUnavailable` means the outcome is
unknown: the caller leaves the payment open and the reconciliation settles it later.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import cache
from typing import Protocol

from ticketing.config import get_settings
from ticketing.db.connection import in_transaction
from ticketing.errors import DomainError
from ticketing.payments.states import PaymentStatus


class ProviderCallInTransaction(RuntimeError):
    """A provider call was about to run inside a database transaction, i.e. possibly under row locks."""


class ProviderUnavailable(Exception):
    """The provider did not answer in time, or answered with an error of its own: the outcome is unknown."""


class InvalidWebhook(DomainError):
    """A webhook whose signature is missing, wrong or too old: refused, nothing changes."""

    status = 400
    code = "INVALID_SIGNATURE"


@dataclass(frozen=True)
class Intent:
    """The provider's payment intent as it is now, in our states (SUCCEEDED, FAILED: cancelled at the provider;
    REQUIRES_PAYMENT_METHOD with a `failure_code`: the last card was declined)."""

    id: str
    status: PaymentStatus
    amount: int
    currency: str
    client_secret: str | None
    failure_code: str | None = None


@dataclass(frozen=True)
class RefundResult:
    succeeded: bool
    reference: str | None
    failure_code: str | None = None


@dataclass(frozen=True)
class ChargeBooks:
    """What the provider's own books say of one intent: whether its charge succeeded, and each refund made of it
    (succeeded or pending), by reference and amount. Read-only: the invariant check compares it with ours."""

    intent_id: str
    charged: bool
    amount: int
    refunds: tuple[tuple[str, int], ...]

    @property
    def refunded(self) -> int:
        return sum(amount for _, amount in self.refunds)


@dataclass(frozen=True)
class WebhookEvent:
    """A verified webhook: its id (deduplication) and the intent it is about (None: not about an intent)."""

    id: str
    type: str
    intent_id: str | None
    payment_id: str | None


class PaymentProvider(Protocol):
    name: str

    def create_intent(self, *, amount: int, currency: str, payment_id: str, idempotency_key: str) -> Intent:
        """A new intent for `amount` minor units (no money moves yet); `payment_id` goes into its metadata."""
        ...

    def confirm_intent(self, intent_id: str, *, payment_method: str, idempotency_key: str) -> Intent:
        """Attaches the payment method and confirms: succeeded, declined (REQUIRES_PAYMENT_METHOD with a
        failure code), or REQUIRES_ACTION when the customer must authenticate (3-D Secure)."""
        ...

    def retrieve_intent(self, intent_id: str) -> Intent: ...

    def cancel_intent(self, intent_id: str) -> Intent:
        """Cancels an intent that has not succeeded; answers the intent as it is (SUCCEEDED if it was too late)."""
        ...

    def refund(self, *, reference: str, amount: int, idempotency_key: str) -> RefundResult:
        """Refunds the charge of intent `reference`. The same `idempotency_key` (our payment id) must never refund
        twice: a retry answers the first refund. Raising means the outcome is unknown, so the caller retries with
        the same key."""
        ...

    def charge_books(self, intent_id: str) -> ChargeBooks:
        """The provider's books for intent `intent_id` (read-only; `LookupError` when it has no such intent)."""
        ...

    def verify_webhook(self, payload: bytes, headers: dict[str, str]) -> WebhookEvent:
        """The event a signed webhook carries; `InvalidWebhook` when its signature does not verify."""
        ...


def outside_transaction() -> None:
    """Refuses a provider call while this thread is inside a database transaction (docs/payments.md)."""
    if in_transaction():
        raise ProviderCallInTransaction("payment providers are called outside database transactions")


# The module and class of each provider, imported only when configured.
_PROVIDERS = {
    "test": ("ticketing.payments.test_provider", "TestPaymentProvider"),
    "stripe": ("ticketing.payments.stripe_provider", "StripePaymentProvider"),
}


def payment_provider() -> PaymentProvider:
    return provider_named(get_settings().payment_provider)


@cache
def provider_named(name: str) -> PaymentProvider:
    """The provider a payment row names (`payments.provider`), whichever is configured for new payments."""
    module_name, class_name = _PROVIDERS[name]
    provider: PaymentProvider = getattr(importlib.import_module(module_name), class_name)()
    return provider
