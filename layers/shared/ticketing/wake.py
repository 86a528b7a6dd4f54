"""Wakes another function right after a commit, so work the commit queued starts now, not at its next tick.

An asynchronous Lambda invoke (`InvocationType=Event`): the caller does not wait, and a failed wake-up loses
nothing, because what the woken function would do is committed rows that its scheduled sweep (every minute)
takes anyway. The callers (ticketing.refunds.trigger, ticketing.domain_events) name the function through a
setting; without it (local runs, tests) nothing is woken and the sweep does the work.
"""

from __future__ import annotations

import json
from typing import Any

from ticketing.aws_clients import aws_client
from ticketing.observability import logger


def wake_function(function_name: str | None, payload: dict[str, Any], *, missed: str) -> bool:
    """Invokes `function_name` asynchronously with `payload`; answers whether Lambda accepted the request.

    Never raises: the caller's change is committed already. `missed` says, in the warning logged on failure,
    what the scheduled sweep will do instead.
    """
    if not function_name:
        return False
    try:
        response = aws_client("lambda").invoke(
            FunctionName=function_name, InvocationType="Event", Payload=json.dumps(payload).encode()
        )
    except Exception:  # the sweep does the work within a minute; the caller's change has succeeded
        logger.warning(
            "could not wake a function", extra={"functionName": function_name, "instead": missed}, exc_info=True
        )
        return False
    return int(response.get("StatusCode", 0)) == 202
