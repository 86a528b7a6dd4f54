"""CloudFormation custom resources: run the work, then ALWAYS answer CloudFormation, in time.

CloudFormation waits for a PUT of a JSON document to the request's pre-signed ResponseURL. A handler
that raises, hangs or times out without answering leaves the stack waiting (up to ServiceTimeout), so:
every exception becomes a FAILED answer, and a watchdog answers FAILED shortly before the Lambda
timeout if the work is still running. Whichever answers first wins; the other is dropped.
"""

from __future__ import annotations

import json
import threading
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from ticketing.observability import logger
from ticketing.time_budget import time_budget

SUCCESS = "SUCCESS"
FAILED = "FAILED"
# Time kept back from the Lambda timeout to send the answer.
RESPONSE_MARGIN_SECONDS = 10.0
RESPONSE_TIMEOUT_SECONDS = 10.0
MAX_REASON_CHARS = 1000

# Work receives the seconds it may take and answers the resource's Data attributes.
Work = Callable[[float], Mapping[str, str]]


class CloudFormationResponder:
    """Sends the one answer a custom resource request gets."""

    def __init__(self, event: Mapping[str, Any], context: LambdaContext, physical_resource_id: str) -> None:
        self._event = event
        self._context = context
        self._physical_resource_id = physical_resource_id
        self._lock = threading.Lock()
        self.answered: str | None = None

    def send(self, status: str, *, reason: str = "", data: Mapping[str, str] | None = None) -> bool:
        """PUTs the answer unless one was already sent; answers whether this call sent it."""
        with self._lock:
            if self.answered is not None:
                return False
            self.answered = status
        document = {
            "Status": status,
            "Reason": self._reason(reason),
            "PhysicalResourceId": self._physical_resource_id,
            "StackId": self._event["StackId"],
            "RequestId": self._event["RequestId"],
            "LogicalResourceId": self._event["LogicalResourceId"],
            "NoEcho": False,
            "Data": dict(data or {}),
        }
        body = json.dumps(document).encode("utf-8")
        # The pre-signed URL was signed without a content type: send none.
        request = urllib.request.Request(  # noqa: S310 - the URL is CloudFormation's https ResponseURL
            self._event["ResponseURL"],
            data=body,
            method="PUT",
            headers={"Content-Type": "", "Content-Length": str(len(body))},
        )
        try:
            with urllib.request.urlopen(request, timeout=RESPONSE_TIMEOUT_SECONDS) as response:  # noqa: S310
                logger.info("answered CloudFormation", extra={"status": status, "httpStatus": response.status})
        except OSError:
            logger.exception("could not answer CloudFormation", extra={"status": status})
        return True

    def _reason(self, reason: str) -> str:
        where = f"See CloudWatch log stream {self._context.log_stream_name}"
        return f"{reason[:MAX_REASON_CHARS]} ({where})" if reason else where


def handle(event: Mapping[str, Any], context: LambdaContext, *, physical_resource_id: str, work: Work) -> str:
    """Runs `work` for Create and Update (Delete only answers SUCCESS) and answers; returns the status sent."""
    responder = CloudFormationResponder(event, context, event.get("PhysicalResourceId") or physical_resource_id)
    budget = time_budget(context, keep_seconds=RESPONSE_MARGIN_SECONDS)
    watchdog = threading.Timer(
        budget,
        lambda: responder.send(FAILED, reason=f"Timed out: the work did not finish within {budget:.0f} s."),
    )
    watchdog.daemon = True
    watchdog.start()
    try:
        if event["RequestType"] == "Delete":
            responder.send(SUCCESS)
        else:
            data = work(budget)
            responder.send(SUCCESS, data=data)
    except Exception as error:
        logger.exception("custom resource failed", extra={"requestType": event.get("RequestType")})
        responder.send(FAILED, reason=_describe(error))
    finally:
        watchdog.cancel()
    return responder.answered or FAILED


def _describe(error: BaseException) -> str:
    """The error and what caused it: a driver often wraps the useful message (say, a missing database)."""
    parts: list[str] = []
    current: BaseException | None = error
    while current is not None and len(parts) < 3:
        parts.append(f"{type(current).__name__}: {current}")
        current = current.__cause__ or current.__context__
    return " <- ".join(parts)
