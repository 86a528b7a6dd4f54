"""The one time-budget formula of the scheduled and background functions (ticketing.time_budget)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from ticketing.time_budget import time_budget


@dataclass
class Remaining:
    millis: int

    def get_remaining_time_in_millis(self) -> int:
        return self.millis


def test_the_budget_is_what_is_left_less_what_must_be_kept() -> None:
    assert time_budget(Remaining(60_000), keep_seconds=15) == 45


def test_the_budget_is_capped() -> None:
    assert time_budget(Remaining(300_000), keep_seconds=15, at_most_seconds=40) == 40


@pytest.mark.parametrize(("at_least", "expected"), [(0.0, 0.0), (1.0, 1.0)])
def test_a_nearly_spent_invocation_gets_the_floor(at_least: float, expected: float) -> None:
    assert time_budget(Remaining(5_000), keep_seconds=15, at_least_seconds=at_least) == expected
