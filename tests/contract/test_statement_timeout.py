"""A statement never outlives its function: DB_STATEMENT_TIMEOUT_MS, as each function of template.yaml gets it
(its own value, else the default), leaves at least a second of the function's timeout for the answer, so a slow
query becomes a 503 the client can retry instead of a killed function."""

from __future__ import annotations

from pathlib import Path

import pytest

from devtools.sam_template import FunctionSpec, load_template
from ticketing.config import Settings

REPO_ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS = load_template(REPO_ROOT / "template.yaml").functions
ROOM_FOR_THE_ANSWER_MS = 1000


def _statement_timeout_ms(environment: dict[str, str]) -> int:
    default = Settings.model_fields["db_statement_timeout_ms"].default
    return int(environment.get("DB_STATEMENT_TIMEOUT_MS", default))


def test_the_default_statement_timeout_is_below_the_shortest_function_timeout() -> None:
    shortest_ms = min(function.timeout for function in FUNCTIONS) * 1000

    assert _statement_timeout_ms({}) + ROOM_FOR_THE_ANSWER_MS <= shortest_ms


@pytest.mark.parametrize("function", FUNCTIONS, ids=lambda function: function.logical_id)
def test_every_function_statement_timeout_is_below_its_own_timeout(function: FunctionSpec) -> None:
    statement_ms = _statement_timeout_ms(function.environment)

    assert 0 < statement_ms <= function.timeout * 1000 - ROOM_FOR_THE_ANSWER_MS
