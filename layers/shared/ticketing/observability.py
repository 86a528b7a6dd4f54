"""Logger, tracer and business metrics shared by the layer and the functions.

The service name comes from POWERTOOLS_SERVICE_NAME; metrics are emitted as CloudWatch EMF log lines
when a function's handler returns (see `instrumented`). Tracing is X-Ray through Powertools' Tracer,
which switches itself off outside Lambda (local runner, tests) and with POWERTOOLS_TRACE_DISABLED=true.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import TYPE_CHECKING, Any, cast

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

if TYPE_CHECKING:
    from aws_lambda_powertools import Tracer

logger = Logger()
metrics = Metrics(namespace="Ticketing")


def count(name: str, value: int = 1) -> None:
    """Adds to a business counter (HoldsPlaced, SeatLockConflicts, BookingsConfirmed, ...)."""
    if value > 0:
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


@lru_cache(maxsize=1)
def tracer() -> Tracer:
    """The X-Ray tracer, built on first use: modules that only log or count never load the X-Ray SDK."""
    from aws_lambda_powertools import Tracer

    return Tracer()


def instrumented[Handler: Callable[..., Any]](handler: Handler, *, correlation_id_path: str | None = None) -> Handler:
    """Wraps a Lambda handler: JSON logs with request context, an X-Ray segment, metrics flushed at the end.

    Responses are never captured into traces: they carry tokens and personal data.
    """
    with_metrics = metrics.log_metrics(handler)
    traced = tracer().capture_lambda_handler(with_metrics, capture_response=False)
    with_logging = logger.inject_lambda_context(traced, correlation_id_path=correlation_id_path, clear_state=True)
    return cast(Handler, with_logging)
