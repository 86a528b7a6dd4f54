"""`make invoke FN=<LogicalId> EVENT=<file>`: one function, one event, its answer as JSON on stdout."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]


def make_invoke(function: str, event: str, database_url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "devtools.invoke", function, event],
        cwd=REPO_ROOT,
        env={**os.environ, "DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_an_api_function_prints_status_headers_and_body_as_json(database_url: str, db: Any) -> None:
    finished = make_invoke("HealthFunction", "events/health_get.json", database_url)

    assert finished.returncode == 0, finished.stderr
    answer = json.loads(finished.stdout)
    assert answer["statusCode"] == 200
    assert answer["multiValueHeaders"]["Content-Type"] == ["application/json"]
    assert json.loads(answer["body"]) == {"status": "ok", "database": "ok"}
    [report] = [line for line in finished.stderr.splitlines() if line.startswith("REPORT ")]
    assert "\tFunction: HealthFunction\t" in report
    assert "\tInit Duration: " in report


def test_a_scheduled_function_prints_its_result(database_url: str, db: Any) -> None:
    finished = make_invoke("ExpiryFunction", "events/expiry_scheduled.json", database_url)

    assert finished.returncode == 0, finished.stderr
    assert json.loads(finished.stdout)["finished"] is True


def test_an_unknown_function_is_refused_with_the_names_there_are(database_url: str) -> None:
    finished = make_invoke("NoSuchFunction", "events/health_get.json", database_url)

    assert (finished.returncode, finished.stdout) == (1, "")
    assert "no function 'NoSuchFunction' in template.yaml" in finished.stderr
    assert "HealthFunction" in finished.stderr


def test_a_missing_event_file_is_refused(database_url: str) -> None:
    finished = make_invoke("HealthFunction", "events/no-such-file.json", database_url)

    assert finished.returncode == 1
    assert "no event file events/no-such-file.json" in finished.stderr
