"""Domain events leave the outbox for EventBridge (moto) after commit; failures stay queued and are retried."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from devtools.sam_template import load_template
from devtools.server import invoke
from ticketing import domain_events
from ticketing.db import transaction
from ticketing.domain_events import publisher
from ticketing.observability import metrics

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"
OUTBOX_PUBLISHER = next(f for f in load_template(TEMPLATE).functions if f.logical_id == "OutboxPublisherFunction")
BUS = "ticketing-test-domain-events"


class BusQueue:
    """An SQS queue subscribed to every `ticketing` event on the bus: what a consumer would receive."""

    def __init__(self) -> None:
        events = boto3.client("events")
        self._sqs = boto3.client("sqs")
        events.create_event_bus(Name=BUS)
        self.url = self._sqs.create_queue(QueueName="domain-events-probe")["QueueUrl"]
        arn = self._sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        events.put_rule(Name="all-ticketing", EventBusName=BUS, EventPattern=json.dumps({"source": ["ticketing"]}))
        events.put_targets(Rule="all-ticketing", EventBusName=BUS, Targets=[{"Id": "probe", "Arn": arn}])

    def received(self) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = []
        while batch := self._sqs.receive_message(QueueUrl=self.url, MaxNumberOfMessages=10).get("Messages", []):
            messages.extend(json.loads(message["Body"]) for message in batch)
            for message in batch:
                self._sqs.delete_message(QueueUrl=self.url, ReceiptHandle=message["ReceiptHandle"])
        return messages


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


@pytest.fixture
def bus(aws: None, aws_settings: Any) -> BusQueue:
    aws_settings(EVENT_BUS_NAME=BUS)
    return BusQueue()


def record(event_type: str, payload: dict[str, Any]) -> None:
    with transaction() as tx:
        domain_events.record(tx, event_type=event_type, payload=payload)


def outbox(db: Any) -> list[dict[str, Any]]:
    return db.rows(
        "SELECT event_type, payload, published_at, attempts, last_error FROM outbox_events ORDER BY created_at"
    )


def test_a_recorded_event_lands_on_the_bus_with_the_documented_shape(db: Any, bus: BusQueue) -> None:
    payload = {"bookingId": "b-1", "userId": "u-1", "status": "CONFIRMED", "total": 5000, "currency": "EUR"}
    record(domain_events.BOOKING_CONFIRMED, payload)

    published = domain_events.publish_after_commit()

    assert published == 1
    [message] = bus.received()
    assert message["source"] == "ticketing"
    assert message["detail-type"] == "BookingConfirmed"
    assert message["detail"] == payload
    [row] = outbox(db)
    assert row["published_at"] is not None
    assert row["attempts"] == 0


def test_without_a_bus_name_publishing_after_commit_is_a_no_op(db: Any, aws: None, aws_settings: Any) -> None:
    aws_settings(EVENT_BUS_NAME=None)
    record(domain_events.BOOKING_EXPIRED, {"bookingId": "b-2"})

    assert domain_events.publish_after_commit() == 0
    [row] = outbox(db)
    assert row["published_at"] is None
    assert row["attempts"] == 0


def test_a_missing_bus_keeps_the_event_unpublished_with_the_attempt_counted(
    db: Any, aws: None, aws_settings: Any
) -> None:
    # Given a bus name that does not exist (moto refuses the whole PutEvents call)
    aws_settings(EVENT_BUS_NAME="no-such-bus")
    record(domain_events.BOOKING_CANCELLED, {"bookingId": "b-3"})

    # When the request publishes after commit: it does not raise
    assert domain_events.publish_after_commit() == 0

    [row] = outbox(db)
    assert row["published_at"] is None
    assert row["attempts"] == 1
    assert "no-such-bus" in row["last_error"]


def test_a_refused_entry_fails_alone_and_the_rest_of_the_batch_is_published(db: Any, bus: BusQueue) -> None:
    # Given two good events and one EventBridge refuses (no detail type)
    record(domain_events.BOOKING_CONFIRMED, {"bookingId": "good-1"})
    record("", {"bookingId": "refused"})
    record(domain_events.BOOKING_EXPIRED, {"bookingId": "good-2"})

    published = publisher.publish_pending()

    assert published == 2
    assert sorted(message["detail"]["bookingId"] for message in bus.received()) == ["good-1", "good-2"]
    refused = next(row for row in outbox(db) if row["event_type"] == "")
    assert refused["published_at"] is None
    assert refused["attempts"] == 1
    assert refused["last_error"].startswith("InvalidArgument")


def test_the_sweep_retries_what_failed_and_the_request_hook_leaves_it_alone(db: Any, bus: BusQueue) -> None:
    # Given an event whose first attempt failed
    record(domain_events.BOOKING_CONFIRMED, {"bookingId": "retry-me"})
    db.execute("UPDATE outbox_events SET attempts = 1, last_error = 'timeout'")

    # The post-commit hook only sends fresh events
    assert domain_events.publish_after_commit() == 0
    assert bus.received() == []

    # The sweep sends it and clears the error
    assert publisher.publish_pending() == 1
    assert [message["detail"]["bookingId"] for message in bus.received()] == ["retry-me"]
    [row] = outbox(db)
    assert row["published_at"] is not None
    assert row["last_error"] is None


def test_an_event_failing_repeatedly_is_reported_once(db: Any, aws: None, aws_settings: Any) -> None:
    aws_settings(EVENT_BUS_NAME="no-such-bus")
    record(domain_events.BOOKING_CONFIRMED, {"bookingId": "stuck"})
    db.execute("UPDATE outbox_events SET attempts = :attempts", attempts=publisher.REPORT_AFTER_ATTEMPTS - 1)
    metrics.clear_metrics()
    try:
        publisher.publish_pending()
        reported = dict(metrics.metric_set)
        publisher.publish_pending()
        reported_again = dict(metrics.metric_set)
    finally:
        metrics.clear_metrics()

    assert reported["OutboxPublishFailures"]["Value"] == [1.0]
    assert reported_again["OutboxPublishFailures"]["Value"] == [1.0]
    [row] = outbox(db)
    assert row["attempts"] == publisher.REPORT_AFTER_ATTEMPTS + 1
    assert row["published_at"] is None


def test_the_scheduled_publisher_drains_more_than_one_put_events_call(db: Any, bus: BusQueue) -> None:
    # Given more events than one PutEvents call takes
    for number in range(publisher.PUT_EVENTS_BATCH + 3):
        record(domain_events.BOOKING_EXPIRED, {"bookingId": f"b-{number}"})

    result = invoke(OUTBOX_PUBLISHER, {"source": "aws.events", "detail-type": "Scheduled Event"}, 30)

    assert result == {"published": publisher.PUT_EVENTS_BATCH + 3}
    assert len(bus.received()) == publisher.PUT_EVENTS_BATCH + 3
    assert db.value("SELECT count(*) FROM outbox_events WHERE published_at IS NULL") == 0
