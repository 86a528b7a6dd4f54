"""ExpiryFunction: the every-minute EventBridge sweep of expired holds and unpaid bookings."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from ticketing.bookings.expiry import sweep
from ticketing.observability import instrumented, logger
from ticketing.time_budget import time_budget

# Stop well inside the function's timeout; whatever is left, the next run picks up a minute later.
SAFETY_MARGIN_SECONDS = 15
MAX_BUDGET_SECONDS = 40


def handle(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    budget = time_budget(
        context, keep_seconds=SAFETY_MARGIN_SECONDS, at_least_seconds=1.0, at_most_seconds=MAX_BUDGET_SECONDS
    )
    result = sweep(time_budget_seconds=budget).as_dict()
    logger.info("expiry sweep", extra=result)
    return result


lambda_handler = instrumented(handle)
