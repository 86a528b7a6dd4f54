"""The invariant check as ops run it in AWS: the InvariantCheckFunction's answer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from devtools.sam_template import load_template
from devtools.server import invoke

TEMPLATE = Path(__file__).resolve().parents[3] / "template.yaml"


def invoke_check() -> dict[str, Any]:
    """Ops' `aws lambda invoke` of the function the template deploys, with an empty event."""
    (function,) = [f for f in load_template(TEMPLATE).functions if f.logical_id == "InvariantCheckFunction"]
    answer: dict[str, Any] = invoke(function, {}, function.timeout)
    return answer


def test_the_function_answers_holds_on_a_consistent_database(world: Any) -> None:
    answer = invoke_check()

    assert answer["holds"] is True
    assert answer["violations"] == []


def test_the_function_answers_the_violated_invariant_and_its_rows(world: Any, db: Any) -> None:
    # Given the confirmed booking's payment recorded for one cent less than its total
    changed = db.execute("UPDATE payments SET amount = amount - 1 WHERE id = :id", id=world.ids["confirmed_payment"])
    assert changed == 1

    answer = invoke_check()

    assert answer["holds"] is False
    assert [(v["invariant"], v["count"]) for v in answer["violations"]] == [("bookings.confirmed_booking_paid", 1)]
    assert answer["violations"][0]["rows"][0]["booking_id"] == world.ids["confirmed"]
