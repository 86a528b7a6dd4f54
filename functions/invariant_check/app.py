"""InvariantCheckFunction: the runbook's invariant check in AWS (docs/operations.md, "Invariant check").

Ops invoke it (`aws lambda invoke --function-name <stack>-InvariantCheckFunction out.json`) after an incident,
a failover or a manual fix; it reads the database in one read-only snapshot and answers what
`make check-invariants` prints, as JSON: `holds`, and per violated invariant its rule and rows. It also counts
`InvariantViolations` (the number of violated invariants), which an alarm can watch. It writes nothing.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from ticketing.observability import count, instrumented, logger
from ticketing.ops.invariants import check


def handle(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    report = check()
    result = report.as_dict()
    count("InvariantViolations", len(report.violations))
    if report.holds:
        logger.info("invariants hold", extra={"checked": result["checked"]})
    else:
        logger.error("invariants violated", extra=result)
    return result


lambda_handler = instrumented(handle)
