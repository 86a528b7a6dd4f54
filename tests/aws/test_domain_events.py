"""Domain events leave the outbox for EventBridge (moto) after commit; failures stay queued and are retried."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
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
    # The detail is the payload plus the outbox row's id, which consumers deduplicate on
    assert message["detail"] == {**payload, "domainEventId": str(db.value("SELECT id FROM outbox_events"))}
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

    assert result == {"expanded": 0, "published": publisher.PUT_EVENTS_BATCH + 3}
    assert len(bus.received()) == publisher.PUT_EVENTS_BATCH + 3
    assert db.value("SELECT count(*) FROM outbox_events WHERE published_at IS NULL") == 0


SCHEDULED = {"source": "aws.events", "detail-type": "Scheduled Event"}


def _cancelled_event_with_bookings(api: Any, accounts: Any, catalog: Any, count: int) -> tuple[str, dict[str, Any]]:
    """An event whose `count` buyers each hold a PENDING one-seat booking, cancelled by its organizer; answers
    the event id and the bookings by id (with their owner's id)."""
    organizer = accounts.create("ORGANIZER")
    event = catalog.event(rows=3, organizer_id=organizer.id)
    bookings = {}
    for seat_id in event.seat_ids[:count]:
        buyer = accounts.create()
        held = api.post("/api/bookings/hold-seats", json={"eventId": event.id, "seatIds": [seat_id]}, token=buyer.token)
        assert held.status == 200, held.body
        created = api.post("/api/bookings/create", json={"eventId": event.id}, token=buyer.token)
        assert created.status == 201, created.body
        bookings[created.json()["id"]] = {**created.json(), "userId": buyer.id}
    cancelled = api.post(f"/api/events/{event.id}/cancel", token=organizer.token)
    assert cancelled.status == 200, cancelled.body
    return event.id, bookings


def test_an_event_cancellation_reaches_the_bus_with_a_booking_cancelled_per_booking(
    db: Any, bus: BusQueue, api: Any, accounts: Any, catalog: Any
) -> None:
    # Given an event whose bookings take more than one PutEvents call, cancelled by its organizer
    event_id, bookings = _cancelled_event_with_bookings(api, accounts, catalog, publisher.PUT_EVENTS_BATCH + 2)
    assert bus.received() == []  # the request's own attempt leaves the cancellation to the woken publisher

    # When the outbox publisher runs (woken after the cancel, or on its schedule)
    result = invoke(OUTBOX_PUBLISHER, SCHEDULED, 30)

    # Then the bus has the EventCancelled and one BookingCancelled per booking, shaped as before
    received = bus.received()
    assert result == {"expanded": len(bookings), "published": len(bookings) + 1}
    assert [message["detail"]["eventId"] for message in received if message["detail-type"] == "EventCancelled"] == [
        event_id
    ]
    booking_events = sorted(
        (message["detail"] for message in received if message["detail-type"] == "BookingCancelled"),
        key=lambda detail: detail["bookingId"],
    )
    # each with its own deduplication key (checked here, compared without it below)
    assert len({detail.pop("domainEventId") for detail in booking_events}) == len(bookings)
    assert booking_events == [
        {
            "bookingId": booking_id,
            "userId": booking["userId"],
            "eventId": event_id,
            "status": "CANCELLED",
            "total": booking["total"],
            "currency": booking["currency"],
            "reason": "Event cancelled",
        }
        for booking_id, booking in sorted(bookings.items())
    ]
    assert db.value("SELECT count(*) FROM outbox_events WHERE published_at IS NULL OR expand_bookings") == 0


def test_a_publisher_that_dies_after_expanding_leaves_the_events_to_the_next_run_without_expanding_again(
    db: Any, bus: BusQueue, api: Any, accounts: Any, catalog: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a cancelled event with three bookings, and a publisher that dies once it has expanded them
    _, bookings = _cancelled_event_with_bookings(api, accounts, catalog, 3)
    with monkeypatch.context() as dying:
        dying.setattr(publisher, "publish_pending", _die)
        with pytest.raises(RuntimeError, match="publisher died"):
            invoke(OUTBOX_PUBLISHER, SCHEDULED, 30)
    assert db.value("SELECT count(*) FROM outbox_events WHERE event_type = 'BookingCancelled'") == len(bookings)

    # When the next run comes
    result = invoke(OUTBOX_PUBLISHER, SCHEDULED, 30)

    # Then it publishes what the first wrote, and writes nothing twice
    assert result == {"expanded": 0, "published": len(bookings) + 1}
    assert sorted(message["detail-type"] for message in bus.received()) == ["BookingCancelled"] * 3 + ["EventCancelled"]
    assert db.value("SELECT count(*) FROM outbox_events WHERE event_type = 'BookingCancelled'") == len(bookings)


def _die(limit: int) -> int:
    raise RuntimeError("publisher died")


PUBLISHER_FUNCTION = "ticketing-test-outbox-publisher"


class WakeUps:
    """The Lambda invokes the layer sends (botocore's before-call hook on its client), each with what another
    database session saw at that moment: whether the cancellation was committed."""

    def __init__(self, db: Any) -> None:
        from ticketing.aws_clients import aws_client

        self.calls: list[dict[str, Any]] = []
        self._db = db
        aws_client("lambda").meta.events.register("before-call.lambda.Invoke", self._record)

    def _record(self, params: dict[str, Any], **_: Any) -> None:
        with ThreadPoolExecutor(max_workers=1) as other_session:
            committed = other_session.submit(self._committed_cancellations).result()
        self.calls.append({"payload": json.loads(params["body"]), "committed_cancellations": committed, **params})

    def _committed_cancellations(self) -> int:
        from ticketing.db.connection import close_connection

        try:
            return int(self._db.value("SELECT count(*) FROM outbox_events WHERE event_type = 'EventCancelled'"))
        finally:
            close_connection()

    def to(self, function_name: str) -> list[dict[str, Any]]:
        return [call for call in self.calls if call["url_path"].endswith(f"/functions/{function_name}/invocations")]


@pytest.fixture
def wake_ups(db: Any, moto_lambda: Callable[[str], None], aws_settings: Any) -> WakeUps:
    moto_lambda(PUBLISHER_FUNCTION)
    aws_settings(OUTBOX_PUBLISHER_FUNCTION_NAME=PUBLISHER_FUNCTION)
    return WakeUps(db)


def test_the_outbox_publisher_is_woken_right_after_the_cancellation_commits(
    wake_ups: WakeUps, db: Any, api: Any, accounts: Any, catalog: Any
) -> None:
    event_id, _ = _cancelled_event_with_bookings(api, accounts, catalog, 2)

    [wake_up] = wake_ups.to(PUBLISHER_FUNCTION)
    assert wake_up["headers"]["X-Amz-Invocation-Type"] == "Event"
    assert wake_up["payload"] == {
        "source": "ticketing",
        "detail-type": domain_events.EXPANSION_QUEUED,
        "detail": {"eventId": event_id},
    }
    assert wake_up["committed_cancellations"] == 1
    assert db.value("SELECT count(*) FROM outbox_events WHERE expand_bookings") == 1


def test_nothing_is_woken_for_an_event_without_bookings(
    wake_ups: WakeUps, db: Any, api: Any, accounts: Any, catalog: Any
) -> None:
    _cancelled_event_with_bookings(api, accounts, catalog, 0)

    assert wake_ups.to(PUBLISHER_FUNCTION) == []
    assert db.value("SELECT expand_bookings FROM outbox_events WHERE event_type = 'EventCancelled'") is False


def test_nothing_is_woken_without_a_publisher_function(
    wake_ups: WakeUps, aws_settings: Any, db: Any, api: Any, accounts: Any, catalog: Any
) -> None:
    aws_settings(OUTBOX_PUBLISHER_FUNCTION_NAME=None)

    _cancelled_event_with_bookings(api, accounts, catalog, 1)

    assert wake_ups.calls == []
    assert db.value("SELECT count(*) FROM outbox_events WHERE expand_bookings") == 1  # the sweep's to expand


def test_a_failed_wake_up_loses_nothing(
    db: Any, bus: BusQueue, aws_settings: Any, api: Any, accounts: Any, catalog: Any
) -> None:
    # Given a publisher function Lambda does not know: the wake-up fails
    aws_settings(OUTBOX_PUBLISHER_FUNCTION_NAME="ticketing-test-no-such-function")
    assert domain_events.wake_publisher_after_commit(uuid.uuid4()) is False

    # When an event with two bookings is cancelled: the cancel still succeeds
    _, bookings = _cancelled_event_with_bookings(api, accounts, catalog, 2)

    # Then the scheduled run writes and publishes its events
    assert invoke(OUTBOX_PUBLISHER, SCHEDULED, 30) == {"expanded": 2, "published": 3}
    assert sorted(message["detail"].get("bookingId", "") for message in bus.received()) == sorted(["", *bookings])
