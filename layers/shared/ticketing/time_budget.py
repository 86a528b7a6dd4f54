"""How long a scheduled or background invocation may keep starting work: the one formula every function uses.

Such functions work in rounds (a batch of expiries, of refunds, of outbox rows) and must stop while a last
round and their answer still fit inside the function's timeout; whatever is left, the next run picks up.
"""

from __future__ import annotations

import math
from typing import Protocol


class _RemainingTime(Protocol):
    def get_remaining_time_in_millis(self) -> int: ...


def time_budget(
    context: _RemainingTime,
    *,
    keep_seconds: float,
    at_least_seconds: float = 0.0,
    at_most_seconds: float = math.inf,
) -> float:
    """Seconds to work: what is left of the timeout less `keep_seconds` (a last round's worst case and the
    answer), capped at `at_most_seconds`, and never below `at_least_seconds` (so one round always runs)."""
    remaining = context.get_remaining_time_in_millis() / 1000
    return max(at_least_seconds, min(at_most_seconds, remaining - keep_seconds))
