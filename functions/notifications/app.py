"""NotificationFunction: e-mails customers about their bookings; triggered by domain events on the bus.

Each event's e-mail goes out once, deduplicated on `detail.domainEventId` (the outbox row's id; EventBridge's
own event id for an event published without one): docs/security.md, "Exactly-once delivery".
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent
from aws_lambda_powertools.utilities.typing import LambdaContext

from ticketing.domain_events import DEDUPLICATION_KEY
from ticketing.notifications import email
from ticketing.observability import instrumented


def handle(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    domain_event = EventBridgeEvent(event)
    delivery_key = str(domain_event.detail.get(DEDUPLICATION_KEY) or domain_event.get_id)
    message_id = email.notify_by_email(domain_event.detail_type, domain_event.detail, delivery_key=delivery_key)
    return {"sent": message_id is not None, "messageId": message_id}


lambda_handler = instrumented(handle, correlation_id_path=correlation_paths.EVENT_BRIDGE)
