"""ExpiryFunction: the every-minute EventBridge sweep of expired holds and unpaid bookings."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from ticketing.bookings.expiry import sweep
from ticketing.observability import logger, metrics
from ticketing.snapstart import register_restore_hook

# Stop well inside the function's timeout; whatever is left, the next run picks up a minute later.
SAFETY_MARGIN_SECONDS = 15
MAX_BUDGET_SECONDS = 40

register_restore_hook()


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    remaining = context.get_remaining_time_in_millis() / 1000
    report = sweep(time_budget_seconds=max(1.0, min(MAX_BUDGET_SECONDS, remaining - SAFETY_MARGIN_SECONDS)))
    result = report.as_dict()
    logger.info("expiry sweep", extra=result)
    return result
