"""The pre-traffic hook (functions/pre_traffic_hook/app.py).

Two halves, tested the way each can be (docs/decisions.md, "The pre-traffic hook: how it is tested"):
- its read-only checks run against our own functions, invoked locally exactly as Lambda would invoke the new
  version, and are accepted; every API function of template.yaml has one, on one of its own routes;
- its AWS wiring runs against moto (CodeDeploy's get_deployment and AppSpec, Lambda's tags, versions,
  invoke and dry run). moto does not implement put_lifecycle_event_hook_execution_status: that call is
  validated by botocore against AWS's service model and captured just before it would be sent.
"""

from __future__ import annotations

import importlib.util
import io
import json
import sys
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from moto import mock_aws

from devtools.lambda_context import LambdaContext
from devtools.sam_template import load_template
from devtools.server import invoke

REPO_ROOT = Path(__file__).resolve().parents[2]
HOOK_SOURCE = REPO_ROOT / "functions/pre_traffic_hook/app.py"
FUNCTIONS = {function.logical_id: function for function in load_template(REPO_ROOT / "template.yaml").functions}


def _load_hook() -> ModuleType:
    # Loaded by path under its own name, as the local runner loads every function's `app` module.
    name = "lambda_PreTrafficHookFunction"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, HOOK_SOURCE)
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


hook = _load_hook()


# The checks, against our own code -------------------------------------------------------------------------------


def test_every_api_function_has_a_read_only_check_and_every_check_names_a_function() -> None:
    api_functions = {logical_id for logical_id, function in FUNCTIONS.items() if function.api_events}
    assert api_functions == set(hook.READ_CHECKS)


@pytest.mark.parametrize("logical_id", sorted(hook.READ_CHECKS))
def test_each_check_is_a_route_of_its_own_function(logical_id: str) -> None:
    check = hook.READ_CHECKS[logical_id]
    routes = {(route.method, route.path) for route in FUNCTIONS[logical_id].api_events}
    assert (check.method, check.resource) in routes


@pytest.mark.parametrize("logical_id", sorted(hook.READ_CHECKS))
def test_each_function_answers_its_check_as_a_healthy_version_does(logical_id: str, api: Any, db: Any) -> None:
    # Given the function's code and a working database
    before = _row_counts(db)

    # When the check's proxy event is invoked as Lambda would invoke the new version
    result = invoke(FUNCTIONS[logical_id], hook.proxy_event(hook.READ_CHECKS[logical_id]), 30)

    # Then the hook accepts the answer, and the check wrote nothing
    assert "answered" in hook.judge(hook.READ_CHECKS[logical_id], result)
    assert _row_counts(db) == before


def _row_counts(db: Any) -> dict[str, int]:
    tables = [row["tablename"] for row in db.rows("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
    return {table: db.value(f'SELECT count(*) FROM "{table}"') for table in tables}


@pytest.mark.parametrize(
    "answer",
    [
        {"statusCode": 500, "body": json.dumps({"error": {"code": "INTERNAL", "message": "boom"}})},
        {"statusCode": 503, "body": json.dumps({"status": "degraded", "database": "unavailable"})},
        {"errorMessage": "Task timed out", "errorType": "Timeout"},
    ],
)
def test_an_unhealthy_answer_fails_the_check(answer: dict[str, Any]) -> None:
    with pytest.raises(hook.CheckFailed, match=r"answered 50\d|not an API Gateway proxy answer"):
        hook.judge(hook.READ_CHECKS["HealthFunction"], answer)


def test_an_expected_refusal_must_carry_its_error_code() -> None:
    check = hook.READ_CHECKS["BookingsFunction"]
    other_401 = {"statusCode": 401, "body": json.dumps({"error": {"code": "TOKEN_EXPIRED", "message": "x"}})}
    with pytest.raises(hook.CheckFailed, match="expected 401 UNAUTHORIZED"):
        hook.judge(check, other_401)


def test_the_hook_reports_before_its_timeout_in_the_worst_case() -> None:
    assert hook.WORST_CASE_SECONDS < hook.HOOK_BUDGET_SECONDS
    assert hook.WORST_CASE_SECONDS == 79
    assert hook.CHECK.max_attempts == 1


# The wiring, against moto -----------------------------------------------------------------------------------------


class Deployment:
    """A Lambda deployment in moto: a function with a published version and CodeDeploy's AppSpec for it."""

    def __init__(self, role_arn: str) -> None:
        import boto3

        self._role_arn = role_arn
        self._lambda = boto3.client("lambda")
        self._codedeploy = boto3.client("codedeploy")
        self._codedeploy.create_application(applicationName="ticketing", computePlatform="Lambda")
        self._codedeploy.create_deployment_group(
            applicationName="ticketing",
            deploymentGroupName="live",
            serviceRoleArn=role_arn,
            deploymentStyle={"deploymentType": "BLUE_GREEN", "deploymentOption": "WITH_TRAFFIC_CONTROL"},
        )

    def of(self, logical_id: str) -> str:
        """Deploys `<stack>-<logical id>-x` (tagged as CloudFormation tags it), a new version, and its deployment."""
        archive = io.BytesIO()
        with zipfile.ZipFile(archive, "w") as zipped:
            zipped.writestr("app.py", "def lambda_handler(event, context):\n    return {}\n")
        name = f"ticketing-{logical_id}-x"
        self._lambda.create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=self._role_arn,
            Handler="app.lambda_handler",
            Code={"ZipFile": archive.getvalue()},
            Tags={"aws:cloudformation:logical-id": logical_id},
        )
        version = self._lambda.publish_version(FunctionName=name)["Version"]
        appspec = {
            "version": 0.0,
            "Resources": [
                {
                    "Function": {
                        "Type": "AWS::Lambda::Function",
                        "Properties": {"Name": name, "Alias": "live", "CurrentVersion": "0", "TargetVersion": version},
                    }
                }
            ],
        }
        created = self._codedeploy.create_deployment(
            applicationName="ticketing",
            deploymentGroupName="live",
            revision={"revisionType": "AppSpecContent", "appSpecContent": {"content": json.dumps(appspec)}},
        )
        return str(created["deploymentId"])


def _next_invocation_answers(result: dict[str, Any]) -> None:
    """What moto's Docker-free Lambda answers to the next invoke (its documented moto-api endpoint)."""
    import requests

    response = requests.post(
        "http://motoapi.amazonaws.com/moto-api/static/lambda-simple/response",
        json={"results": [json.dumps(result)], "region": "us-east-1", "account_id": "123456789012"},
        timeout=5,
    )
    assert response.status_code == 201, response.text


@pytest.fixture
def deployments(aws_settings: Callable[..., None]) -> Iterator[Deployment]:
    with mock_aws(config={"lambda": {"use_docker": False}}):
        import boto3

        aws_settings()
        for client in (hook._codedeploy, hook._lambda_control, hook._lambda_check):
            client.cache_clear()
        role = boto3.client("iam").create_role(
            RoleName="codedeploy", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []})
        )
        yield Deployment(role["Role"]["Arn"])
        for client in (hook._codedeploy, hook._lambda_control, hook._lambda_check):
            client.cache_clear()


@pytest.fixture
def reports() -> list[dict[str, Any]]:
    """Every put_lifecycle_event_hook_execution_status the hook makes, validated by botocore, then captured."""
    reported: list[dict[str, Any]] = []

    def capture(params: dict[str, Any], **kwargs: Any) -> tuple[AWSResponse, dict[str, Any]]:
        reported.append(json.loads(params["body"]))
        answer = {"lifecycleEventHookExecutionId": reported[-1]["lifecycleEventHookExecutionId"]}
        return AWSResponse(params["url"], 200, {}, None), answer

    hook._codedeploy().meta.events.register("before-call.codedeploy.PutLifecycleEventHookExecutionStatus", capture)
    return reported


def _run_hook(deployment_id: str) -> dict[str, str]:
    event = {"DeploymentId": deployment_id, "LifecycleEventHookExecutionId": "hook-execution-1"}
    context = LambdaContext("PreTrafficHookFunction", 256, hook.HOOK_BUDGET_SECONDS)
    result: dict[str, str] = hook.handler(event, context)
    return result


def test_a_new_version_that_answers_its_check_lets_the_deployment_go_on(
    deployments: Deployment, reports: list[dict[str, Any]]
) -> None:
    # Given a deployment of HealthFunction whose new version answers 200 healthy
    deployment_id = deployments.of("HealthFunction")
    _next_invocation_answers({"statusCode": 200, "body": json.dumps({"status": "ok", "database": "ok"})})

    # When CodeDeploy runs the hook
    result = _run_hook(deployment_id)

    # Then it reports Succeeded for this deployment and hook execution
    assert result == {"status": "Succeeded", "reason": "GET /api/health answered 200"}
    assert reports == [
        {"deploymentId": deployment_id, "lifecycleEventHookExecutionId": "hook-execution-1", "status": "Succeeded"}
    ]


def test_a_new_version_that_answers_500_stops_the_deployment(
    deployments: Deployment, reports: list[dict[str, Any]]
) -> None:
    # Given a deployment of EventsFunction whose new version answers 500
    deployment_id = deployments.of("EventsFunction")
    _next_invocation_answers({"statusCode": 500, "body": json.dumps({"error": {"code": "INTERNAL", "message": "x"}})})

    # When CodeDeploy runs the hook
    result = _run_hook(deployment_id)

    # Then it reports Failed, saying what the version answered
    assert result["status"] == "Failed"
    assert "GET /api/events answered 500 INTERNAL" in result["reason"]
    assert [report["status"] for report in reports] == ["Failed"]


def test_a_function_without_a_route_is_checked_by_a_dry_run(
    deployments: Deployment, reports: list[dict[str, Any]]
) -> None:
    # Given a deployment of the scheduled expiry function (no read-only request exists for it)
    deployment_id = deployments.of("ExpiryFunction")

    # When CodeDeploy runs the hook
    result = _run_hook(deployment_id)

    # Then its new version was only dry-run, and the deployment goes on
    assert result["status"] == "Succeeded"
    assert "dry run" in result["reason"]
    assert [report["status"] for report in reports] == ["Succeeded"]


def test_a_deployment_codedeploy_does_not_know_is_reported_failed(
    deployments: Deployment, reports: list[dict[str, Any]]
) -> None:
    # When the hook runs for a deployment id that does not exist
    result = _run_hook("d-NOSUCH123")

    # Then it still reports, Failed, with CodeDeploy's error as the reason
    assert result["status"] == "Failed"
    assert "DeploymentDoesNotExist" in result["reason"] or "ClientError" in result["reason"]
    assert [report["deploymentId"] for report in reports] == ["d-NOSUCH123"]
