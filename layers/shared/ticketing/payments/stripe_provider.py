"""The Stripe provider: PaymentIntents, refunds and signed webhooks through the official `stripe` SDK.

Keys come from `STRIPE_SECRET_KEY` / `STRIPE_WEBHOOK_SECRET` (locally) or the Secrets Manager secrets named by
their `_ARN` variables (in AWS, cached like every secret). `STRIPE_API_BASE` points the SDK at localstripe
locally. Every POST carries an `Idempotency-Key`; every call is bounded by `PAYMENT_PROVIDER_TIMEOUT_SECONDS`
and not retried by the SDK (a timeout is an unknown outcome, which our own records settle: docs/payments.md).
"""

from __future__ import annotations

import json
from functools import cached_property
from typing import Any

import stripe

from ticketing.config import get_settings
from ticketing.errors import ValidationFailed
from ticketing.payments.provider import (
    ChargeBooks,
    Intent,
    InvalidWebhook,
    ProviderUnavailable,
    RefundResult,
    WebhookEvent,
    outside_transaction,
)
from ticketing.payments.states import PaymentStatus

# Stripe's webhook signature tolerance: an event signed longer ago than this is refused (replay protection).
WEBHOOK_TOLERANCE_SECONDS = 300
_STATES = {
    "requires_payment_method": PaymentStatus.REQUIRES_PAYMENT_METHOD,
    "requires_confirmation": PaymentStatus.REQUIRES_PAYMENT_METHOD,
    "requires_action": PaymentStatus.REQUIRES_ACTION,
    "processing": PaymentStatus.PROCESSING,
    "requires_capture": PaymentStatus.PROCESSING,
    "succeeded": PaymentStatus.SUCCEEDED,
    "canceled": PaymentStatus.FAILED,
}


def _secret(value: str | None, arn: str | None, name: str) -> str:
    if value:
        return value
    if arn:
        from ticketing.aws_clients import get_secret

        return str(get_secret(arn, max_age=get_settings().secrets_max_age_seconds))
    raise RuntimeError(f"PAYMENT_PROVIDER=stripe needs {name} or {name}_ARN")


class StripePaymentProvider:
    name = "stripe"

    @cached_property
    def _client(self) -> stripe.StripeClient:
        settings = get_settings()
        key = _secret(settings.stripe_secret_key, settings.stripe_secret_key_arn, "STRIPE_SECRET_KEY")
        return stripe.StripeClient(
            key,
            base_addresses={"api": settings.stripe_api_base} if settings.stripe_api_base else None,
            http_client=stripe.RequestsClient(timeout=settings.payment_provider_timeout_seconds),
            max_network_retries=0,
        )

    def _request(self, call: Any, *args: Any, **kwargs: Any) -> Any:
        outside_transaction()
        try:
            return call(*args, **kwargs)
        except stripe.CardError:
            raise
        except stripe.InvalidRequestError as refused:
            raise ValidationFailed.for_field(
                "paymentToken", f"The payment provider refused the request: {refused.user_message or refused.code}"
            ) from refused
        except stripe.StripeError as error:
            raise ProviderUnavailable(f"{type(error).__name__}: {error}") from error

    def create_intent(self, *, amount: int, currency: str, payment_id: str, idempotency_key: str) -> Intent:
        created = self._request(
            self._client.v1.payment_intents.create,
            params={"amount": amount, "currency": currency.lower(), "metadata": {"payment_id": payment_id}},
            options={"idempotency_key": idempotency_key},
        )
        return _intent(created)

    def confirm_intent(self, intent_id: str, *, payment_method: str, idempotency_key: str) -> Intent:
        # Attach, then confirm: two calls, each with its own key, as localstripe confirms only an attached method.
        try:
            self._request(
                self._client.v1.payment_intents.update,
                intent_id,
                params={"payment_method": payment_method},
                options={"idempotency_key": f"{idempotency_key}-attach"},
            )
            confirmed = self._request(
                self._client.v1.payment_intents.confirm, intent_id, options={"idempotency_key": idempotency_key}
            )
        except stripe.CardError:
            # Declined: the intent needs another payment method now, with the decline as its last error.
            return self.retrieve_intent(intent_id)
        return _intent(confirmed)

    def retrieve_intent(self, intent_id: str) -> Intent:
        return _intent(self._request(self._client.v1.payment_intents.retrieve, intent_id))

    def cancel_intent(self, intent_id: str) -> Intent:
        current = self.retrieve_intent(intent_id)
        if current.status not in (PaymentStatus.REQUIRES_PAYMENT_METHOD, PaymentStatus.REQUIRES_ACTION):
            return current
        try:
            cancelled = self._request(
                self._client.v1.payment_intents.cancel, intent_id, options={"idempotency_key": f"{intent_id}-cancel"}
            )
        except ValidationFailed:
            # It changed between our read and the cancel (the customer paid it just now): answer it as it is.
            return self.retrieve_intent(intent_id)
        return _intent(cancelled)

    def refund(self, *, reference: str, amount: int, idempotency_key: str) -> RefundResult:
        refund = self._request(
            self._client.v1.refunds.create,
            params={"payment_intent": reference, "amount": amount},
            options={"idempotency_key": idempotency_key},
        )
        succeeded = refund.status in ("succeeded", "pending")
        return RefundResult(
            succeeded=succeeded, reference=refund.id, failure_code=None if succeeded else refund.failure_reason
        )

    def charge_books(self, intent_id: str) -> ChargeBooks:
        try:
            intent = self._request(self._client.v1.payment_intents.retrieve, intent_id)
        except ValidationFailed as unknown:
            raise LookupError(f"Stripe has no intent {intent_id}") from unknown
        refunds = self._request(self._client.v1.refunds.list, params={"payment_intent": intent_id, "limit": 100})
        return ChargeBooks(
            intent_id=intent_id,
            charged=intent.status == "succeeded",
            amount=intent.amount,
            refunds=tuple(
                (refund.id, refund.amount) for refund in refunds.data if refund.status in ("succeeded", "pending")
            ),
        )

    def verify_webhook(self, payload: bytes, headers: dict[str, str]) -> WebhookEvent:
        settings = get_settings()
        secret = _secret(settings.stripe_webhook_secret, settings.stripe_webhook_secret_arn, "STRIPE_WEBHOOK_SECRET")
        try:
            stripe.WebhookSignature.verify_header(
                payload.decode("utf-8"), headers.get("stripe-signature"), secret, tolerance=WEBHOOK_TOLERANCE_SECONDS
            )
            event = json.loads(payload)
        except (stripe.SignatureVerificationError, ValueError) as refused:
            raise InvalidWebhook("The webhook's Stripe-Signature does not verify.") from refused
        # Signed by Stripe, so well-formed; read defensively all the same, so that no shape can crash the handler.
        data = event.get("data") if isinstance(event, dict) else None
        obj = data.get("object") if isinstance(data, dict) else None
        about_intent = isinstance(obj, dict) and obj.get("object") == "payment_intent"
        metadata = obj.get("metadata") if about_intent and isinstance(obj, dict) else None
        payment_id = metadata.get("payment_id") if isinstance(metadata, dict) else None
        return WebhookEvent(
            id=str(event.get("id", "")),
            type=str(event.get("type", "")),
            intent_id=str(obj["id"]) if about_intent and isinstance(obj, dict) and obj.get("id") else None,
            payment_id=str(payment_id) if payment_id else None,
        )


def _intent(intent: Any) -> Intent:
    error = intent.last_payment_error
    return Intent(
        id=intent.id,
        status=_STATES[intent.status],
        amount=intent.amount,
        currency=intent.currency.upper(),
        client_secret=intent.client_secret,
        failure_code=error.code if error else None,
    )
