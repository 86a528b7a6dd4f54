"""Wakes the refunds function right after a cancellation committed refunds to the queue (ticketing.wake).

The refunds are committed rows: a failed wake-up loses nothing, the scheduled sweep (every minute) takes them.
Without REFUNDS_FUNCTION_NAME (local runs, tests) nothing is woken; the sweep does the work.
"""

from __future__ import annotations

from uuid import UUID

from ticketing.config import get_settings
from ticketing.wake import wake_function

WAKE_DETAIL_TYPE = "RefundsQueued"


def wake_refund_workers(*, event_id: UUID | None, refunds: int) -> bool:
    """Asks the refunds function to start on the queue now; answers whether the request was accepted."""
    if refunds <= 0:
        return False
    payload = {
        "source": "ticketing",
        "detail-type": WAKE_DETAIL_TYPE,
        "detail": {"eventId": None if event_id is None else str(event_id), "refunds": refunds},
    }
    return wake_function(
        get_settings().refunds_function_name, payload, missed="the scheduled sweep will send the refunds"
    )
