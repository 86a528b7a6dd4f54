"""Customer e-mails for domain events, sent through SES. In-app notifications are written elsewhere.

A booking event's detail names the customer by `userId`; the address is looked up in the database when
the e-mail is sent, so a changed address is honoured and a deleted account gets nothing.

Exactly once per domain event: EventBridge delivers at least once and the outbox may publish an event twice,
so each e-mail is claimed under the event's deduplication key (`email_deliveries`), committed, sent, then
marked sent (claim, commit, call, settle). A redelivery finds the claim and sends nothing; a failed send gives
the claim back so the retry sends. Only a sender that dies after SES accepted the message and before marking
leaves a claim that, once its lease has run out, a later redelivery sends again (SES has no idempotency key).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from uuid import UUID

from ticketing import domain_events
from ticketing.aws_clients import aws_client
from ticketing.config import ConfigurationError, get_settings
from ticketing.db import transaction
from ticketing.notifications import repository
from ticketing.observability import count, logger
from ticketing.users import repository as users_repo

if TYPE_CHECKING:
    from mypy_boto3_ses import SESClient


@dataclass(frozen=True)
class Email:
    to: str
    subject: str
    body: str


# EventCancelled has no e-mail of its own: cancelling an event cancels each booking on it, and every
# one of those BookingCancelled events reaches its customer.
_MESSAGES: dict[str, tuple[str, str]] = {
    domain_events.BOOKING_CONFIRMED: (
        "Your booking is confirmed",
        "Thank you for your booking. It is paid and confirmed; your tickets are in your account.",
    ),
    domain_events.BOOKING_CANCELLED: (
        "Your booking was cancelled",
        "Your booking was cancelled and its seats were released. Any payment is refunded.",
    ),
    domain_events.BOOKING_EXPIRED: (
        "Your booking expired",
        "Your booking expired before it was paid, so its seats were released. You are welcome to book again.",
    ),
}


def _ses_client() -> SESClient:
    client: SESClient = aws_client("ses")
    return client


def compose(event_type: str, detail: dict[str, Any], *, to: str, name: str) -> Email | None:
    message = _MESSAGES.get(event_type)
    if message is None:
        return None
    subject, text = message
    lines = [f"Hello {name},", "", text, ""]
    if detail.get("bookingId"):
        lines.append(f"Booking reference: {detail['bookingId']}")
    if detail.get("reason"):
        lines.append(f"Reason: {detail['reason']}")
    return Email(to=to, subject=subject, body="\n".join(lines))


def email_for(event_type: str, detail: dict[str, Any]) -> Email | None:
    """The e-mail an event asks for, addressed to its customer; None when there is nobody to tell."""
    if event_type not in _MESSAGES:
        return None
    try:
        user_id = UUID(str(detail.get("userId")))
    except ValueError:
        logger.warning("domain event without a valid userId; no e-mail", extra={"eventType": event_type})
        return None
    with transaction() as tx:
        user = users_repo.find_by_id(tx, user_id)
    if user is None:
        logger.info("the user of a domain event no longer exists; no e-mail", extra={"userId": str(user_id)})
        return None
    return compose(event_type, detail, to=str(user["email"]), name=str(user["name"]))


def send(email: Email) -> str:
    """Sends through SES as EMAIL_FROM and answers the SES message id. SES errors propagate (and are retried)."""
    sender = get_settings().email_from
    if not sender:
        raise ConfigurationError("EMAIL_FROM is not set")
    response = _ses_client().send_email(
        Source=sender,
        Destination={"ToAddresses": [email.to]},
        Message={
            "Subject": {"Data": email.subject, "Charset": "UTF-8"},
            "Body": {"Text": {"Data": email.body, "Charset": "UTF-8"}},
        },
    )
    count("EmailsSent")
    return response["MessageId"]


# Longer than a send at its worst case (ticketing.aws_clients budget for SES) plus the marking transaction.
CLAIM_LEASE_SECONDS = 60


def notify_by_email(event_type: str, detail: dict[str, Any], *, delivery_key: str) -> str | None:
    """Sends the e-mail a domain event calls for, once per `delivery_key` (the event's deduplication key);
    answers the SES message id, or None when none was due or it was sent already."""
    email = email_for(event_type, detail)
    if email is None:
        return None
    with transaction() as tx:
        claimed = repository.claim_email(
            tx, delivery_key=delivery_key, event_type=event_type, lease_seconds=CLAIM_LEASE_SECONDS
        )
    if not claimed:
        logger.info("this event's e-mail was sent already (or is being sent)", extra={"deliveryKey": delivery_key})
        count("EmailsDeduplicated")
        return None
    try:
        message_id = send(email)
    except BaseException:
        with transaction() as tx:
            repository.release_email(tx, delivery_key)
        raise
    with transaction() as tx:
        repository.mark_email_sent(tx, delivery_key=delivery_key, message_id=message_id)
    return message_id
