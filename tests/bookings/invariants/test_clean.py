"""The invariant check on a consistent database: everything holds, and the command says so with exit 0."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

from ticketing.ops.invariants import ALL_INVARIANTS, ALL_RULES, check

CHECK_COMMAND = [sys.executable, "-m", "devtools.local_stack", "check-invariants"]


def run_check_command() -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        CHECK_COMMAND, capture_output=True, text=True, check=False, env=os.environ.copy(), timeout=120
    )


def test_a_consistent_database_holds_every_invariant(world: Any) -> None:
    report = check()

    assert report.violations == []
    assert report.exit_code == 0
    assert len(report.checked) == len(ALL_RULES) > len(ALL_INVARIANTS) >= 20


def test_the_command_exits_0_on_a_consistent_database(world: Any) -> None:
    ran = run_check_command()

    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert f"OK: all {len(ALL_RULES)} invariants hold" in ran.stdout


def test_the_command_exits_1_naming_the_invariant_and_its_row(world: Any, db: Any) -> None:
    # Given a ticket of the confirmed booking voided behind the API's back (committed, not rolled back)
    voided = db.execute(
        "UPDATE tickets SET status = 'VOID', voided_at = now(), void_reason = 'CANCELLED'"
        " WHERE booking_id = :booking AND event_seat_id = :seat",
        booking=world.ids["confirmed"],
        seat=world.ids["seat0"],
    )
    assert voided == 1

    ran = run_check_command()

    assert ran.returncode == 1, ran.stdout + ran.stderr
    assert "VIOLATED: 1 of" in ran.stdout
    assert "- bookings.confirmed_booking_ticketed (1 rows)" in ran.stdout
    assert world.ids["seat0"] in ran.stdout
