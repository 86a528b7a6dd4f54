"""WaitingRoomControllerFunction: admits the next buyers of every open waiting room (docs/waiting-room.md).

EventBridge invokes it once a minute; one invocation runs WAITING_ROOM_TICKS_PER_INVOCATION ticks,
WAITING_ROOM_TICK_SECONDS apart (6 of 10 s in AWS: a tick every 10 s from a one-minute schedule, with no
Step Functions to pay for or operate). Locally the runner fires it every LOCAL_SCHEDULE_SECONDS, one tick each.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from ticketing.config import get_settings
from ticketing.observability import instrumented
from ticketing.time_budget import time_budget
from ticketing.waiting_room.controller import run_ticks

# A tick may take a few seconds (a dealt pre-queue); none starts this close to the timeout.
SAFETY_MARGIN_SECONDS = 8


def handle(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings = get_settings()
    budget = time_budget(context, keep_seconds=SAFETY_MARGIN_SECONDS)
    decisions = run_ticks(settings.waiting_room_ticks_per_invocation, settings.waiting_room_tick_seconds, budget)
    return {"ticks": settings.waiting_room_ticks_per_invocation, "decisions": decisions}


lambda_handler = instrumented(handle)
