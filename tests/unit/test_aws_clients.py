"""Every AWS call is bounded below the function's own timeout (ticketing.aws_clients; docs/security.md)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from ticketing.aws_clients import BUDGETS, CallBudget, aws_client, budget, forget_clients
from ticketing.config import ConfigurationError

REPO_ROOT = Path(__file__).resolve().parents[2]
CODE_ROOTS = [REPO_ROOT / "layers" / "shared" / "ticketing", REPO_ROOT / "functions"]
FACTORY = REPO_ROOT / "layers" / "shared" / "ticketing" / "aws_clients.py"
# Calls that create an AWS client (or a Powertools provider with its own client) outside the factory.
_CLIENT_CONSTRUCTORS = {"client", "resource", "Session", "get_secret", "get_parameter", "SecretsProvider"}
_CLIENT_OWNERS = {"boto3", "parameters", "session"}


def _python_files() -> list[Path]:
    return sorted(path for root in CODE_ROOTS for path in root.rglob("*.py") if path != FACTORY)


def _own_client_calls(path: Path) -> list[str]:
    """`boto3.client(...)`, `parameters.get_secret(...)` and the like in one file."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            if node.func.attr in _CLIENT_CONSTRUCTORS and isinstance(owner, ast.Name) and owner.id in _CLIENT_OWNERS:
                found.append(f"{owner.id}.{node.func.attr} (line {node.lineno})")
        if isinstance(node, ast.ImportFrom) and node.module == "aws_lambda_powertools.utilities.parameters":
            found.append(f"from {node.module} import ... (line {node.lineno})")
    return found


def _services_used() -> set[str]:
    """The service names passed to aws_client("...") anywhere in the code, without a budget of their own."""
    services = set()
    for path in _python_files():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "aws_client"
                and len(node.args) == 1
                and not node.keywords
                and isinstance(node.args[0], ast.Constant)
            ):
                services.add(str(node.args[0].value))
    return services


def _shortest_function_timeout() -> float:
    from devtools.sam_template import read_template

    template = read_template(REPO_ROOT / "template.yaml")
    default = float(template["Globals"]["Function"]["Timeout"])
    timeouts = [
        float((resource.get("Properties") or {}).get("Timeout", default))
        for resource in template["Resources"].values()
        if resource.get("Type") == "AWS::Serverless::Function"
    ]
    assert timeouts, "template.yaml declares no function"
    return min(timeouts)


def test_every_aws_client_in_the_code_comes_from_the_factory() -> None:
    # Given every Python file of the layer and the functions, the factory aside
    files = _python_files()
    assert len(files) > 50
    # When each is searched for clients made on the spot
    offenders = {str(path.relative_to(REPO_ROOT)): calls for path in files if (calls := _own_client_calls(path))}
    # Then there are none
    assert offenders == {}


def test_every_service_the_code_calls_has_a_budget() -> None:
    used = _services_used()
    assert {"dynamodb", "events", "lambda", "ses"} <= used
    assert used - BUDGETS.keys() == set()


@pytest.mark.parametrize("service", sorted(BUDGETS))
def test_a_call_with_every_retry_timing_out_ends_before_the_shortest_function_timeout(service: str) -> None:
    # Given the shortest Timeout of any function in template.yaml (any function may use any client of the layer)
    shortest = _shortest_function_timeout()
    assert shortest <= 15
    # Then the service's worst case (connect + read per attempt, every attempt, the longest backoffs) is below it
    assert budget(service).worst_case_seconds < shortest


def test_the_worst_case_counts_every_attempt_and_the_backoff_between_them() -> None:
    assert CallBudget(connect_timeout=1, read_timeout=2, max_attempts=3).worst_case_seconds == 3 * 3 + 1 + 2


@pytest.mark.parametrize("service", sorted(BUDGETS))
def test_the_client_carries_its_budget(service: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given credentials and a region (no call is made)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    forget_clients()
    try:
        # When the factory builds the client
        config = aws_client(service).meta.config
        # Then it has the explicit timeouts and the standard retry mode with the budget's attempts
        expected = budget(service)
        assert (config.connect_timeout, config.read_timeout) == (expected.connect_timeout, expected.read_timeout)
        assert config.retries == {"total_max_attempts": expected.max_attempts, "mode": "standard"}
    finally:
        forget_clients()


def test_a_service_without_a_budget_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="no call budget"):
        budget("s3")


def test_budgets_of_their_own_are_only_in_functions_that_hold_them_below_their_timeout() -> None:
    # A budget besides the layer's (a function whose Timeout is not the API's) lives in that function's module
    owners = {
        str(path.relative_to(REPO_ROOT))
        for path in _python_files()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "CallBudget"
    }
    # (tests/aws/test_pre_traffic_hook.py holds the hook's worst case below its own Timeout)
    assert owners == {"functions/pre_traffic_hook/app.py"}
