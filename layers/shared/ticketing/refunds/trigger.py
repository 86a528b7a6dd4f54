"""Wakes the refunds function right after a cancellation committed refunds to the queue.

An asynchronous Lambda invoke (`InvocationType=Event`): the caller does not wait for the refunds, and a
failed wake-up loses nothing, because the refunds are committed rows that the scheduled sweep (every minute)
takes anyway. Without REFUNDS_FUNCTION_NAME (local runs, tests) nothing is woken; the sweep does the work.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any
from uuid import UUID

from ticketing.config import get_settings
from ticketing.observability import logger

WAKE_DETAIL_TYPE = "RefundsQueued"


@lru_cache(maxsize=1)
def _lambda_client() -> Any:
    import boto3

    return boto3.client("lambda")


def wake_refund_workers(*, event_id: UUID | None, refunds: int) -> bool:
    """Asks the refunds function to start on the queue now; answers whether the request was accepted."""
    function_name = get_settings().refunds_function_name
    if not function_name or refunds <= 0:
        return False
    payload = {
        "source": "ticketing",
        "detail-type": WAKE_DETAIL_TYPE,
        "detail": {"eventId": None if event_id is None else str(event_id), "refunds": refunds},
    }
    try:
        response = _lambda_client().invoke(
            FunctionName=function_name, InvocationType="Event", Payload=json.dumps(payload).encode()
        )
    except Exception:  # the sweep takes the refunds within a minute; the cancellation itself has succeeded
        logger.warning("could not wake the refund workers; the scheduled sweep will send the refunds", exc_info=True)
        return False
    return int(response.get("StatusCode", 0)) == 202
