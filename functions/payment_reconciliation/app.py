"""PaymentReconciliationFunction: settles every payment left open with its provider (docs/payments.md).

Invoked every minute by an EventBridge schedule, and by ops for one booking: `{"bookingId": "..."}` asks the
provider about that booking's open payments at once, due or not. Safe to run twice at once (SKIP LOCKED claims).
"""

from __future__ import annotations

import time
from typing import Any
from uuid import UUID

from aws_lambda_powertools.utilities.typing import LambdaContext

from ticketing.bookings.settlement import reconcile_payment
from ticketing.observability import instrumented, logger
from ticketing.payments.reconciliation import reconcile
from ticketing.time_budget import time_budget

# Stop claiming while a last batch of provider calls (each bounded by its timeout) still fits before the timeout.
STOP_WITH_SECONDS_LEFT = 30
MAX_BUDGET_SECONDS = 40


def handle(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    booking = event.get("bookingId")
    try:
        booking_id = UUID(str(booking)) if booking else None
    except ValueError:
        logger.error("bookingId is not a booking id", extra={"bookingId": str(booking)[:100]})
        return {"error": "bookingId must be a booking's id (a UUID)"}
    budget = time_budget(
        context, keep_seconds=STOP_WITH_SECONDS_LEFT, at_least_seconds=1.0, at_most_seconds=MAX_BUDGET_SECONDS
    )
    report = reconcile(reconcile_payment, deadline=time.monotonic() + budget, booking_id=booking_id)
    result = report.as_dict()
    logger.info("payment reconciliation", extra=result)
    return result


lambda_handler = instrumented(handle)
