"""Domain events (BookingConfirmed, BookingCancelled, BookingExpired, EventCancelled) via the outbox.

`record` writes the event in the caller's transaction; publishing to EventBridge happens after commit.
"""

from __future__ import annotations

import json
from typing import Any

from ticketing.db import Session

BOOKING_CONFIRMED = "BookingConfirmed"
BOOKING_CANCELLED = "BookingCancelled"
BOOKING_EXPIRED = "BookingExpired"
EVENT_CANCELLED = "EventCancelled"


def record(tx: Session, *, event_type: str, payload: dict[str, Any]) -> None:
    tx.execute(
        "INSERT INTO outbox_events (event_type, payload) VALUES (:event_type, CAST(:payload AS jsonb))",
        event_type=event_type,
        payload=json.dumps(payload, default=str),
    )
