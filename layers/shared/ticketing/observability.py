"""Logger and business metrics shared by the layer and the functions.

The service name comes from POWERTOOLS_SERVICE_NAME; metrics are emitted as CloudWatch EMF log lines
when a function's handler returns (see ticketing.http.resolver.lambda_entrypoint).
"""

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

logger = Logger()
metrics = Metrics(namespace="Ticketing")


def count(name: str, value: int = 1) -> None:
    """Adds to a business counter (HoldsPlaced, SeatLockConflicts, BookingsConfirmed, ...)."""
    if value > 0:
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
