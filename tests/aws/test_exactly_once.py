"""Exactly once where it is promised (docs/security.md, "Exactly-once delivery"): the outbox publisher claims,
commits, sends, then marks; every event carries `domainEventId`; a customer gets each e-mail once whatever is
redelivered or retried (moto's EventBridge and SES)."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from devtools.server import invoke
from ticketing import domain_events
from ticketing.db import transaction
from ticketing.domain_events import publisher, repository

from .conftest import AWS_REGION
from .test_domain_events import BUS, BusQueue
from .test_notification_email import NOTIFICATIONS, SENDER, bus_event, customer


@pytest.fixture
def bus(aws_settings: Any) -> Any:
    with mock_aws():
        aws_settings(EVENT_BUS_NAME=BUS)
        yield BusQueue()


def _record(event_type: str, payload: dict[str, Any]) -> None:
    with transaction() as tx:
        domain_events.record(tx, event_type=event_type, payload=payload)


def _in_another_session(db: Any, sql: str) -> Any:
    def read() -> Any:
        from ticketing.db.connection import close_connection

        try:
            return db.value(sql)
        finally:
            close_connection()

    with ThreadPoolExecutor(max_workers=1) as other:
        return other.submit(read).result()


def test_put_events_runs_with_no_transaction_open_after_the_claim_committed(db: Any, bus: BusQueue) -> None:
    # Given a recorded event, and a probe on the EventBridge client that looks at the database as it is called
    from ticketing.aws_clients import aws_client
    from ticketing.db.connection import in_transaction

    _record(domain_events.BOOKING_CONFIRMED, {"bookingId": "b-1"})
    seen: list[tuple[bool, int]] = []

    def probe(**_: Any) -> None:
        claimed = _in_another_session(db, "SELECT count(*) FROM outbox_events WHERE claimed_until > now()")
        seen.append((in_transaction(), claimed))

    aws_client("events").meta.events.register("before-call.events.PutEvents", probe)
    # When the sweep publishes
    published = publisher.publish_pending()
    # Then PutEvents ran outside any transaction, with the lease already visible to other sessions
    assert published == 1
    assert seen == [(False, 1)]
    assert db.value("SELECT count(*) FROM outbox_events WHERE published_at IS NOT NULL AND claimed_until IS NULL") == 1


def test_a_publisher_that_dies_after_sending_leaves_the_event_leased_then_sent_again_with_the_same_id(
    db: Any, bus: BusQueue, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an event a publisher sent and then died before marking it published
    _record(domain_events.BOOKING_CONFIRMED, {"bookingId": "b-2"})
    outbox_id = str(db.value("SELECT id FROM outbox_events"))

    def die(*_: Any, **__: Any) -> None:
        raise RuntimeError("publisher died after PutEvents")

    with monkeypatch.context() as dying:
        dying.setattr(repository, "mark_published", die)
        with pytest.raises(RuntimeError, match="died"):
            publisher.publish_pending()
    first = bus.received()
    assert [message["detail"]["domainEventId"] for message in first] == [outbox_id]
    # When another publisher runs while the lease holds, and again once it has run out
    during_lease = publisher.publish_pending()
    assert db.execute("UPDATE outbox_events SET claimed_until = now() - interval '1 second'") == 1
    after_lease = publisher.publish_pending()
    # Then the first sends nothing and the second sends the event again, under the same id consumers dedupe on
    assert (during_lease, after_lease) == (0, 1)
    assert [message["detail"]["domainEventId"] for message in bus.received()] == [outbox_id]
    assert db.value("SELECT published_at IS NOT NULL FROM outbox_events") is True


@pytest.fixture
def ses(aws_settings: Any) -> Any:
    with mock_aws():
        aws_settings(EMAIL_FROM=SENDER)
        boto3.client("ses").verify_email_identity(EmailAddress=SENDER)
        yield ses_backends[DEFAULT_ACCOUNT_ID][AWS_REGION]


def _confirmed(user_id: str, *, domain_event_id: str, delivery_id: str) -> dict[str, Any]:
    event = bus_event("BookingConfirmed", {"bookingId": "b-42", "userId": user_id, "domainEventId": domain_event_id})
    return {**event, "id": delivery_id}


DOMAIN_EVENT_ID = "01a23ea0-0000-7000-8000-000000000001"


def test_a_redelivered_event_is_emailed_once(db: Any, ses: Any) -> None:
    # Given an event whose e-mail was sent
    user_id = customer(db)
    event = _confirmed(user_id, domain_event_id=DOMAIN_EVENT_ID, delivery_id="eb-1")
    first = invoke(NOTIFICATIONS, event, 30)
    assert first["sent"] is True
    # When EventBridge delivers the same event again
    again = invoke(NOTIFICATIONS, event, 30)
    # Then nothing more is sent
    assert again == {"sent": False, "messageId": None}
    assert len(ses.sent_messages) == 1
    assert (
        db.value("SELECT message_id FROM email_deliveries WHERE delivery_key = :key", key=DOMAIN_EVENT_ID)
        == (first["messageId"])
    )


def test_an_event_published_twice_is_emailed_once(db: Any, ses: Any) -> None:
    # Given an event whose e-mail was sent
    user_id = customer(db)
    assert invoke(NOTIFICATIONS, _confirmed(user_id, domain_event_id=DOMAIN_EVENT_ID, delivery_id="eb-1"), 30)["sent"]
    # When the outbox publishes it again (a new EventBridge id, the same domainEventId)
    again = invoke(NOTIFICATIONS, _confirmed(user_id, domain_event_id=DOMAIN_EVENT_ID, delivery_id="eb-2"), 30)
    # Then the customer still has one e-mail
    assert again["sent"] is False
    assert len(ses.sent_messages) == 1


def test_a_failed_send_is_retried_and_then_sent_once(db: Any, aws_settings: Any) -> None:
    with mock_aws():
        # Given a first attempt SES refused (the sender was not verified yet)
        aws_settings(EMAIL_FROM=SENDER)
        user_id = customer(db)
        event = _confirmed(user_id, domain_event_id=DOMAIN_EVENT_ID, delivery_id="eb-1")
        with pytest.raises(ClientError, match="MessageRejected"):
            invoke(NOTIFICATIONS, event, 30)
        assert db.value("SELECT count(*) FROM email_deliveries") == 0
        # When Lambda retries it after the sender is verified, and once more
        boto3.client("ses").verify_email_identity(EmailAddress=SENDER)
        retried = invoke(NOTIFICATIONS, event, 30)
        repeated = invoke(NOTIFICATIONS, event, 30)
        # Then exactly one e-mail went out
        assert (retried["sent"], repeated["sent"]) == (True, False)
        assert len(ses_backends[DEFAULT_ACCOUNT_ID][AWS_REGION].sent_messages) == 1


def test_an_event_without_a_domain_event_id_is_deduplicated_on_eventbridges_id(db: Any, ses: Any) -> None:
    user_id = customer(db)
    event = bus_event("BookingConfirmed", {"bookingId": "b-42", "userId": user_id})
    assert "domainEventId" not in json.dumps(event)

    results = [invoke(NOTIFICATIONS, event, 30)["sent"] for _ in range(2)]

    assert results == [True, False]
    assert len(ses.sent_messages) == 1
