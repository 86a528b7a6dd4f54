"""After an event cancellation commits refunds, the refunds function is woken asynchronously (moto's Lambda)."""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from ticketing.refunds import trigger

FUNCTION = "ticketing-test-refunds"


@pytest.fixture
def aws_lambda(aws_settings: Any, database_url: str) -> Iterator[None]:
    """moto's Lambda with the refunds function deployed; invoking it runs nothing (no Docker here)."""
    trigger._lambda_client.cache_clear()
    with mock_aws(config={"lambda": {"use_docker": False}}):
        role = boto3.client("iam").create_role(
            RoleName="refunds", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []})
        )
        archive = io.BytesIO()
        with zipfile.ZipFile(archive, "w") as zipped:
            zipped.writestr("app.py", "def lambda_handler(event, context):\n    return {}\n")
        boto3.client("lambda").create_function(
            FunctionName=FUNCTION,
            Runtime="python3.12",
            Role=role["Role"]["Arn"],
            Handler="app.lambda_handler",
            Code={"ZipFile": archive.getvalue()},
        )
        yield
    trigger._lambda_client.cache_clear()


def test_queued_refunds_wake_the_refunds_function(aws_lambda: None, aws_settings: Any) -> None:
    aws_settings(REFUNDS_FUNCTION_NAME=FUNCTION)

    assert trigger.wake_refund_workers(event_id=uuid.uuid4(), refunds=3) is True


def test_nothing_is_woken_without_refunds_or_without_a_function(aws_lambda: None, aws_settings: Any) -> None:
    aws_settings(REFUNDS_FUNCTION_NAME=FUNCTION)
    assert trigger.wake_refund_workers(event_id=uuid.uuid4(), refunds=0) is False

    aws_settings(REFUNDS_FUNCTION_NAME=None)
    assert trigger.wake_refund_workers(event_id=uuid.uuid4(), refunds=3) is False


@pytest.fixture
def lambda_without_the_function(aws_settings: Any) -> Iterator[None]:
    """moto's Lambda (the full backend, which knows which functions exist) without the refunds function."""
    trigger._lambda_client.cache_clear()
    with mock_aws():
        aws_settings(REFUNDS_FUNCTION_NAME=FUNCTION)
        yield
    trigger._lambda_client.cache_clear()


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
