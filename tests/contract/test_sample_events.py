"""Every JSON file in events/ is a working sample: it invokes its function without a server error.

A file names its function by prefix: `bookings_hold_seats.json` belongs to the function whose CodeUri
is functions/bookings (a trailing "s" on the folder is optional: `migration_...` → functions/migrations).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from moto import mock_aws

from devtools.sam_template import FunctionSpec, load_template
from devtools.server import invoke

REPO_ROOT = Path(__file__).resolve().parents[2]
EVENT_FILES = sorted((REPO_ROOT / "events").glob("*.json"))
FUNCTIONS = load_template(REPO_ROOT / "template.yaml").functions
# Functions whose every event names something moto does not emulate, with where they are tested instead.
WITHOUT_SAMPLE = {
    "PreTrafficHookFunction": "its event names a live CodeDeploy deployment; tests/aws/test_pre_traffic_hook.py",
}


def _function_for(event_file: Path) -> FunctionSpec | None:
    candidates = [
        function
        for function in FUNCTIONS
        if event_file.stem.startswith(function.code_uri.name.removesuffix("s") + "_")
        or event_file.stem.startswith(function.code_uri.name + "_")
    ]
    return max(candidates, key=lambda function: len(function.code_uri.name), default=None)


def test_every_sample_event_belongs_to_a_function() -> None:
    orphans = [event_file.name for event_file in EVENT_FILES if _function_for(event_file) is None]

    assert orphans == []


def test_every_function_has_a_sample_event() -> None:
    covered = {function.logical_id for event_file in EVENT_FILES if (function := _function_for(event_file))}

    assert {function.logical_id for function in FUNCTIONS} - covered - set(WITHOUT_SAMPLE) == set()


@pytest.mark.parametrize("event_file", EVENT_FILES, ids=lambda path: path.name)
def test_sample_event_runs_cleanly(event_file: Path, db: Any) -> None:
    function = _function_for(event_file)
    assert function is not None
    event = json.loads(event_file.read_text())

    with mock_aws():
        result = invoke(function, event, function.timeout)

    if "httpMethod" in event:
        assert result["statusCode"] < 500, result.get("body")
