"""The runner in a process of its own (`devtools.run_api.running_api_process`): crowds of clients in one process
use it so that their event loop and the runner's front door do not share one interpreter lock."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from devtools.run_api import running_api_process

pytestmark = pytest.mark.http

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"


def _get(url: str) -> tuple[int, dict[str, object]]:
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.status, json.loads(response.read())


def test_the_runner_process_serves_the_api_once_ready_and_is_gone_after(database_url: str, tmp_path: Path) -> None:
    log = tmp_path / "runner.log"

    # When the runner is started in its own process
    with running_api_process(TEMPLATE, log) as base_url:
        # Then it answers the API as soon as the block starts, and logs its requests
        status, body = _get(f"{base_url}/api/health")
        assert status == 200
        assert body["status"] == "ok"

    # And after the block nothing answers on its port any more
    with pytest.raises(urllib.error.URLError):
        _get(f"{base_url}/api/health")
    assert "/api/health" in log.read_text()


def test_a_runner_process_that_cannot_start_is_reported_with_its_log(database_url: str, tmp_path: Path) -> None:
    log = tmp_path / "runner.log"

    with pytest.raises(RuntimeError, match="exited"), running_api_process(tmp_path / "no-such-template.yaml", log):
        pass

    assert "no-such-template.yaml" in log.read_text()
