"""OutboxPublisherFunction: publishes the domain events still waiting in the outbox.

Runs every minute, and right after an event cancellation commits (woken asynchronously): it first expands
event cancellations into their per-booking BookingCancelled events, then publishes (docs/refunds.md).
"""

from __future__ import annotations

import time
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from ticketing.domain_events import expansion, publisher
from ticketing.observability import instrumented
from ticketing.time_budget import time_budget

# Leave a batch's worth of time before the Lambda timeout.
STOP_WITH_SECONDS_LEFT = 10


def bookings_expander(event_type: str) -> expansion.Expander:
    """The bookings' expansions; imported only when there is something to expand, as most runs have nothing."""
    from ticketing.bookings.event_cancellation import expander_for

    return expander_for(event_type)


def handle(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    """Expands waiting event cancellations, then drains the outbox batch by batch while batches come back full,
    each while time remains."""
    deadline = time.monotonic() + time_budget(context, keep_seconds=STOP_WITH_SECONDS_LEFT)
    expanded = 0
    while time.monotonic() < deadline:
        written = expansion.expand_next(bookings_expander)
        if written is None:
            break
        expanded += written
    total = 0
    while time.monotonic() < deadline:
        published = publisher.publish_pending(limit=publisher.SWEEP_BATCH)
        total += published
        if published < publisher.SWEEP_BATCH:
            break
    return {"expanded": expanded, "published": total}


lambda_handler = instrumented(handle)
