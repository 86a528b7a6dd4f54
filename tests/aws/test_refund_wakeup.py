"""After an event cancellation commits refunds, the refunds function is woken asynchronously (moto's Lambda)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest

from ticketing.refunds import trigger

FUNCTION = "ticketing-test-refunds"


@pytest.fixture
def aws_lambda(moto_lambda: Callable[[str], None], database_url: str) -> None:
    """moto's Lambda with the refunds function deployed."""
    moto_lambda(FUNCTION)


def test_queued_refunds_wake_the_refunds_function(aws_lambda: None, aws_settings: Any) -> None:
    aws_settings(REFUNDS_FUNCTION_NAME=FUNCTION)

    assert trigger.wake_refund_workers(event_id=uuid.uuid4(), refunds=3) is True


def test_nothing_is_woken_without_refunds_or_without_a_function(aws_lambda: None, aws_settings: Any) -> None:
    aws_settings(REFUNDS_FUNCTION_NAME=FUNCTION)
    assert trigger.wake_refund_workers(event_id=uuid.uuid4(), refunds=0) is False

    aws_settings(REFUNDS_FUNCTION_NAME=None)
    assert trigger.wake_refund_workers(event_id=uuid.uuid4(), refunds=3) is False


@pytest.fixture
def lambda_without_the_function(lambda_without_functions: None, aws_settings: Any) -> None:
    aws_settings(REFUNDS_FUNCTION_NAME=FUNCTION)


def test_a_failed_wake_up_does_not_fail_the_cancellation(
    lambda_without_the_function: None, api: Any, accounts: Any, catalog: Any, db: Any
) -> None:
    assert trigger.wake_refund_workers(event_id=uuid.uuid4(), refunds=1) is False
    organizer = accounts.create("ORGANIZER")
    event = catalog.event(organizer_id=organizer.id)
    booking = catalog.booking(event, accounts.create().id)
    db.execute(
        "INSERT INTO payments (booking_id, status, amount, currency, provider, reference)"
        " VALUES (:b, 'SUCCEEDED', 0, 'EUR', 'test', 'ch_test_1')",
        b=booking,
    )

    response = api.post(f"/api/events/{event.id}/cancel", token=organizer.token)

    assert response.status == 200, response.body
    assert response.json()["cancellation"] == {"bookings": 1, "refundsPending": 1, "refundsFailed": 0}
    assert db.value("SELECT status FROM payments") == "REFUND_PENDING"
