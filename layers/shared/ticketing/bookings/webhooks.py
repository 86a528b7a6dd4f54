"""The payment provider's webhooks (docs/payments.md): verified, deduplicated, settled like a client's confirm.

A webhook only tells us which intent changed; its current state is asked of the provider (outside any
transaction), so deliveries in any order, late or repeated, settle to the same truth. The provider's event id
is recorded once its effect is committed: a redelivery of a handled event changes nothing and answers at once.
Any failure before that answers 5xx, so the provider delivers again.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from ticketing.bookings.settlement import settle
from ticketing.db import Session, transaction
from ticketing.db.connection import Row
from ticketing.errors import NotFound, ServiceUnavailable, ValidationFailed
from ticketing.observability import count, logger
from ticketing.payments import repository as payments
from ticketing.payments.provider import ProviderUnavailable, WebhookEvent, payment_provider


@dataclass(frozen=True)
class Handled:
    event_id: str
    outcome: str


def handle_webhook(provider_name: str, payload: bytes, headers: dict[str, str]) -> Handled:
    provider = payment_provider()
    if provider_name != provider.name:
        raise NotFound(f"No webhooks for {provider_name!r} here: this deployment pays through {provider.name!r}.")
    event = provider.verify_webhook(payload, headers)
    with transaction() as tx:
        if payments.webhook_seen(tx, provider.name, event.id):
            return Handled(event.id, "duplicate")
        payment = _payment_of(tx, provider.name, event)
        if payment is not None and payment["reference"] is None and event.intent_id is not None:
            # The intent names our payment, whose reference was not recorded yet (a crash right after creating it).
            payment = payments.record_intent(tx, payment["id"], reference=event.intent_id, client_secret=None)
    if payment is None or event.intent_id is None or payment["reference"] != event.intent_id:
        outcome = "ignored"
        logger.info("webhook not about a payment of ours", extra={"eventId": event.id, "type": event.type})
    else:
        try:
            outcome = settle(payment["id"], provider.retrieve_intent(event.intent_id)).outcome.value
        except ProviderUnavailable as error:
            raise ServiceUnavailable("The payment provider did not answer; deliver the event again.") from error
        except (ValidationFailed, LookupError):
            # The provider does not know the intent it wrote to us about: nothing of ours to settle; the
            # reconciliation keeps watching the payment itself.
            outcome = "ignored"
            logger.warning("webhook names an intent the provider does not know", extra={"eventId": event.id})
    with transaction() as tx:
        payments.record_webhook(tx, provider.name, event.id, event.type)
    count("PaymentWebhooks")
    return Handled(event.id, outcome)


def _payment_of(tx: Session, provider: str, event: WebhookEvent) -> Row | None:
    """Our payment the event is about: by the payment id in the intent's metadata, else by the intent's id."""
    if event.payment_id:
        try:
            found = payments.find(tx, UUID(event.payment_id))
        except ValueError:
            found = None
        if found is not None:
            return found
    return payments.find_by_reference(tx, provider, event.intent_id) if event.intent_id else None
