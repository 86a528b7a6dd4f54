"""RefundsFunction: sends queued refunds to the payment provider (docs/refunds.md).

Invoked three ways, all ending in the same drain of the queue:
- every minute by an EventBridge schedule (retries that fell due, anything a wake-up missed);
- right after an event cancellation commits, asynchronously (`detail-type: RefundsQueued`);
- by ops: `{"action": "retryFailed", "paymentIds": [...]}` requeues REFUND_FAILED refunds (all of them when
  `paymentIds` is absent) and sends them at once.
"""

from __future__ import annotations

import time
from typing import Any
from uuid import UUID

from aws_lambda_powertools.utilities.typing import LambdaContext

from ticketing.observability import instrumented, logger
from ticketing.refunds.worker import drain_with_workers, retry_failed
from ticketing.time_budget import time_budget

# Stop claiming while a last round (a batch of provider calls at their timeout) still fits before the timeout.
STOP_WITH_SECONDS_LEFT = 100
MAX_BUDGET_SECONDS = 200
RETRY_FAILED = "retryFailed"


def handle(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    requeued = 0
    if event.get("action") == RETRY_FAILED:
        given = event.get("paymentIds")
        requeued = len(retry_failed(None if given is None else [UUID(str(value)) for value in given]))
    budget = time_budget(
        context, keep_seconds=STOP_WITH_SECONDS_LEFT, at_least_seconds=1.0, at_most_seconds=MAX_BUDGET_SECONDS
    )
    report = drain_with_workers(deadline=time.monotonic() + budget)
    result = {**report.as_dict(), "requeued": requeued}
    logger.info("refund workers", extra=result)
    return result


lambda_handler = instrumented(handle)
