"""Logger, tracer and business metrics shared by the layer and the functions.

The service name comes from POWERTOOLS_SERVICE_NAME; metrics are emitted as CloudWatch EMF log lines
when a function's handler returns (see `instrumented`). Tracing is X-Ray: Lambda's active tracing records
every invocation on its own; Powertools' Tracer adds the handler's subsegment, annotations and patched
clients only where it can send anything, that is inside Lambda (see `tracing_enabled`). Everywhere else
(local runner, tests, benchmarks) and with POWERTOOLS_TRACE_DISABLED=true the X-Ray SDK is never imported:
it pulls botocore and is most of a function's import time (docs/deploy.md, "Cold starts").
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import lru_cache
from typing import TYPE_CHECKING, Any, cast

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

if TYPE_CHECKING:
    from aws_lambda_powertools import Tracer

logger = Logger()
metrics = Metrics(namespace="Ticketing")

_TRUTHY = {"1", "y", "yes", "t", "true", "on"}


def count(name: str, value: int = 1) -> None:
    """Adds to a business counter (HoldsPlaced, SeatLockConflicts, BookingsConfirmed, ...)."""
    if value > 0:
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


def tracing_enabled() -> bool:
    """True inside Lambda (not `sam local`) unless POWERTOOLS_TRACE_DISABLED is set: where X-Ray listens.

    The same conditions under which Powertools' Tracer would trace at all; asked before the SDK is loaded.
    """
    if os.environ.get("POWERTOOLS_TRACE_DISABLED", "false").strip().lower() in _TRUTHY:
        return False
    return bool(os.environ.get("LAMBDA_TASK_ROOT")) and not os.environ.get("AWS_SAM_LOCAL")


@lru_cache(maxsize=1)
def tracer() -> Tracer:
    """The X-Ray tracer, built on first use: modules that only log or count never load the X-Ray SDK."""
    from aws_lambda_powertools import Tracer

    return Tracer()


def instrumented[Handler: Callable[..., Any]](handler: Handler, *, correlation_id_path: str | None = None) -> Handler:
    """Wraps a Lambda handler: JSON logs with request context, an X-Ray segment, metrics flushed at the end.

    The tracer is built here, at init, when tracing is enabled: with SnapStart the snapshot then holds the
    loaded SDK and a restored environment does not pay for it. Responses are never captured into traces:
    they carry tokens and personal data.
    """
    from ticketing.snapstart import register_restore_hook

    register_restore_hook()
    with_metrics = metrics.log_metrics(handler)
    traced = with_metrics
    if tracing_enabled():
        traced = tracer().capture_lambda_handler(with_metrics, capture_response=False)
    with_logging = logger.inject_lambda_context(traced, correlation_id_path=correlation_id_path, clear_state=True)
    return cast(Handler, with_logging)
