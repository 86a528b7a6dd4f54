"""The notification function e-mails the customer a domain event names, through SES (moto)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from devtools.sam_template import load_template
from devtools.server import invoke

from .conftest import AWS_REGION

REPO_ROOT = Path(__file__).resolve().parents[2]
NOTIFICATIONS = next(
    f for f in load_template(REPO_ROOT / "template.yaml").functions if f.logical_id == "NotificationFunction"
)
SENDER = "tickets@example.com"


@pytest.fixture
def ses(aws_settings: Any) -> Iterator[Any]:
    with mock_aws():
        aws_settings(EMAIL_FROM=SENDER)
        boto3.client("ses").verify_email_identity(EmailAddress=SENDER)
        yield ses_backends[DEFAULT_ACCOUNT_ID][AWS_REGION]


def bus_event(detail_type: str, detail: dict[str, Any]) -> dict[str, Any]:
    event = json.loads((REPO_ROOT / "events" / "notification_booking_confirmed.json").read_text())
    return {**event, "detail-type": detail_type, "detail": detail}


def customer(db: Any, email: str = "Ada.Lovelace@example.com") -> str:
    return str(
        db.value(
            "INSERT INTO users (email, password_hash, name, role) VALUES (:email, 'x', 'Ada', 'USER') RETURNING id",
            email=email,
        )
    )


def test_a_confirmed_booking_is_emailed_to_its_customer(db: Any, ses: Any) -> None:
    user_id = customer(db)

    result = invoke(NOTIFICATIONS, bus_event("BookingConfirmed", {"bookingId": "b-42", "userId": user_id}), 30)

    assert result["sent"] is True
    [message] = ses.sent_messages
    assert message.id == result["messageId"]
    assert message.source == SENDER
    assert message.destinations["ToAddresses"] == ["Ada.Lovelace@example.com"]
    assert message.subject == "Your booking is confirmed"
    assert "Hello Ada," in message.body
    assert "Booking reference: b-42" in message.body


def test_a_cancellation_mentions_its_reason(db: Any, ses: Any) -> None:
    user_id = customer(db)
    detail = {"bookingId": "b-7", "userId": user_id, "reason": "The event was cancelled."}

    invoke(NOTIFICATIONS, bus_event("BookingCancelled", detail), 30)

    [message] = ses.sent_messages
    assert message.subject == "Your booking was cancelled"
    assert "Reason: The event was cancelled." in message.body


def test_nobody_is_emailed_for_a_user_that_no_longer_exists(db: Any, ses: Any) -> None:
    detail = {"bookingId": "b-1", "userId": "7d3c2b1a-0f9e-4d8c-b7a6-5e4d3c2b1a0f"}

    result = invoke(NOTIFICATIONS, bus_event("BookingExpired", detail), 30)

    assert result == {"sent": False, "messageId": None}
    assert ses.sent_messages == []


def test_an_event_cancellation_itself_sends_nothing(db: Any, ses: Any) -> None:
    customer(db)

    result = invoke(NOTIFICATIONS, bus_event("EventCancelled", {"eventId": "e-1", "releasedHolds": 3}), 30)

    assert result["sent"] is False
    assert ses.sent_messages == []


def test_ses_refusing_the_sender_fails_the_invocation_so_it_is_retried(db: Any, aws_settings: Any) -> None:
    # Given a sender identity SES never verified
    with mock_aws():
        aws_settings(EMAIL_FROM="unverified@example.org")
        user_id = customer(db)

        with pytest.raises(ClientError, match="MessageRejected"):
            invoke(NOTIFICATIONS, bus_event("BookingConfirmed", {"bookingId": "b-9", "userId": user_id}), 30)

        assert ses_backends[DEFAULT_ACCOUNT_ID][AWS_REGION].sent_messages == []
