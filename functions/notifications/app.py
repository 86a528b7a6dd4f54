"""NotificationFunction: e-mails customers about their bookings; triggered by domain events on the bus."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent
from aws_lambda_powertools.utilities.typing import LambdaContext

from ticketing.notifications import email
from ticketing.observability import instrumented


def handle(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    domain_event = EventBridgeEvent(event)
    message_id = email.notify_by_email(domain_event.detail_type, domain_event.detail)
    return {"sent": message_id is not None, "messageId": message_id}


lambda_handler = instrumented(handle, correlation_id_path=correlation_paths.EVENT_BRIDGE)
