"""What importing a function costs: only what it needs, no I/O, and no X-Ray SDK where nothing is traced."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from devtools.sam_template import load_template
from ticketing.observability import tracing_enabled

REPO_ROOT = Path(__file__).resolve().parents[2]
HTTP_FUNCTIONS = {
    function.logical_id: function.code_uri / "app.py"
    for function in load_template(REPO_ROOT / "template.yaml").functions
    if function.api_events
}
# Port 9 (discard) on loopback: any connection attempt during import would fail the import.
UNREACHABLE_DATABASE = "postgresql://nobody@127.0.0.1:9/nothing"

# argv: the function's app.py, the top-level packages to report, and "snapshot" to also run the SnapStart
# before-snapshot hooks the import registered, as Lambda does before it takes the snapshot.
_IMPORT = """
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("lambda_app", sys.argv[1])
module = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = module  # as Lambda's importer does
spec.loader.exec_module(module)
if sys.argv[3:] == ["snapshot"]:
    import snapshot_restore_py
    for hook, args, kwargs in snapshot_restore_py.get_before_snapshot():
        hook(*args, **kwargs)
reported = set(sys.argv[2].split(","))
print(json.dumps(sorted(name for name in sys.modules if name.partition(".")[0] in reported)))
"""
XRAY_AND_BOTO3 = ("aws_xray_sdk", "boto3")
CODE_SIGNING = ("cryptography", "jwt")


def _modules_loaded_by_import(
    source: Path, packages: tuple[str, ...] = XRAY_AND_BOTO3, *, snapshot: bool = False, **environment: str
) -> list[str]:
    completed = subprocess.run(
        [sys.executable, "-c", _IMPORT, str(source), ",".join(packages), *(["snapshot"] if snapshot else [])],
        env={"PATH": "", "DATABASE_URL": UNREACHABLE_DATABASE, "JWT_SIGNING_KEY": "x" * 48, **environment},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    loaded: list[str] = json.loads(completed.stdout.strip().splitlines()[-1])
    return loaded


@pytest.mark.parametrize("name", sorted(HTTP_FUNCTIONS))
def test_an_http_function_imports_without_io_boto3_or_the_xray_sdk_outside_lambda(name: str) -> None:
    # When the function's module is imported in a fresh process, as a local runner or a test would
    loaded = _modules_loaded_by_import(HTTP_FUNCTIONS[name])

    # Then it did not touch the (unreachable) database and loaded neither boto3 nor the X-Ray SDK
    assert loaded == []


def test_inside_lambda_the_handler_is_traced_with_the_xray_sdk() -> None:
    # When the bookings function is imported as Lambda initialises it (tracing on)
    loaded = _modules_loaded_by_import(HTTP_FUNCTIONS["BookingsFunction"], LAMBDA_TASK_ROOT="/var/task")

    # Then Powertools' Tracer wraps the handler, with the X-Ray SDK loaded at init
    assert "aws_xray_sdk.core" in loaded


def test_the_tickets_function_loads_code_signing_only_before_a_snapshot_or_with_its_first_code() -> None:
    key = {"TICKET_SIGNING_KEY": "a seed for the ticket signing key"}

    # When the tickets function is imported, and when it is imported and prepared for a SnapStart snapshot
    imported = _modules_loaded_by_import(HTTP_FUNCTIONS["TicketsFunction"], CODE_SIGNING, **key)
    snapshotted = _modules_loaded_by_import(HTTP_FUNCTIONS["TicketsFunction"], CODE_SIGNING, snapshot=True, **key)

    # Then the import alone loads neither PyJWT nor cryptography; the snapshot holds both
    assert imported == []
    assert {"jwt", "cryptography.hazmat.primitives.asymmetric.ed25519"} <= set(snapshotted)


@pytest.mark.parametrize(
    ("environment", "expected"),
    [
        ({}, False),
        ({"LAMBDA_TASK_ROOT": "/var/task"}, True),
        ({"LAMBDA_TASK_ROOT": "/var/task", "AWS_SAM_LOCAL": "true"}, False),
        ({"LAMBDA_TASK_ROOT": "/var/task", "POWERTOOLS_TRACE_DISABLED": "true"}, False),
        ({"LAMBDA_TASK_ROOT": "/var/task", "POWERTOOLS_TRACE_DISABLED": "false"}, True),
    ],
)
def test_tracing_is_enabled_only_inside_lambda_unless_disabled(
    monkeypatch: pytest.MonkeyPatch, environment: dict[str, str], expected: bool
) -> None:
    for variable in ("LAMBDA_TASK_ROOT", "AWS_SAM_LOCAL", "POWERTOOLS_TRACE_DISABLED"):
        monkeypatch.delenv(variable, raising=False)
    for variable, value in environment.items():
        monkeypatch.setenv(variable, value)

    assert tracing_enabled() is expected
