"""PreTrafficHookFunction: CodeDeploy's pre-traffic hook for the functions behind the `live` alias.

Before CodeDeploy moves any traffic to a new version, it calls this with `{DeploymentId,
LifecycleEventHookExecutionId}`. The hook reads the deployment's AppSpec (the function, its alias, the target
version), invokes the target version directly with the smoke test's read-only request for that function
(an API Gateway proxy event: GET /api/health for HealthFunction, GET /api/events for EventsFunction, ...)
and reports `Succeeded` or `Failed`. On `Failed` CodeDeploy stops the deployment and the alias stays on the
old version: no buyer ever reaches a version that cannot answer its own health check (docs/smoke.md).

Nothing here writes: each check is a GET, or a request refused before any work (no token, a body that fails
validation, a webhook without a signature). Functions without an API route (scheduled and asynchronous ones)
are invoked with `InvocationType=DryRun`: Lambda checks the version exists, is active and may be invoked,
without running it; running a sweep or a publisher early would not be read-only.

Time: every AWS call has explicit connect/read timeouts and at most two attempts; their worst case
(`WORST_CASE_SECONDS`, 79 s) stays below `HOOK_BUDGET_SECONDS`, the Timeout the function needs, so the hook
always reaches its report.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from ticketing.aws_clients import CallBudget, aws_client
from ticketing.observability import instrumented, logger

# Control-plane calls (get_deployment, get_function_configuration, list_tags, the report): quick, retried once.
CONTROL = CallBudget(connect_timeout=2, read_timeout=4, max_attempts=2)
CONTROL_CALLS = 4
# The check's invocation: a cold start (SnapStart restore) plus one database round trip. Not retried: a new
# version too slow to answer once is a failed one.
CHECK = CallBudget(connect_timeout=2, read_timeout=25, max_attempts=1)
# Each budget's worst case counts every attempt and the backoff between them (ticketing.aws_clients).
WORST_CASE_SECONDS = CONTROL_CALLS * CONTROL.worst_case_seconds + CHECK.worst_case_seconds
# The function's Timeout in the template: above the worst case, so the hook always reaches its report.
HOOK_BUDGET_SECONDS = 90
CLOUDFORMATION_LOGICAL_ID_TAG = "aws:cloudformation:logical-id"
# A well-formed id that names nothing: a read of it is a 404 (or an empty answer) and touches nothing.
NO_SUCH_ID = "00000000-0000-4000-8000-000000000000"


@dataclass(frozen=True)
class Answer:
    """An answer a healthy version gives: its status and, for errors, the envelope's code."""

    status: int
    error_code: str | None = None


@dataclass(frozen=True)
class ReadCheck:
    method: str
    path: str
    resource: str
    accepted: tuple[Answer, ...]
    path_parameters: dict[str, str] = field(default_factory=dict)
    query: dict[str, str] = field(default_factory=dict)
    body: str | None = None


def _get(path: str, *accepted: Answer, query: dict[str, str] | None = None) -> ReadCheck:
    return ReadCheck("GET", path, path, accepted, query=query or {})


def _of_no_event(resource: str) -> ReadCheck:
    """GET of an event's sub-resource for an event nobody has: a 404 after one read."""
    return ReadCheck(
        "GET",
        f"/api/events/{NO_SUCH_ID}/{resource}",
        f"/api/events/{{id}}/{resource}",
        (Answer(404, "NOT_FOUND"),),
        path_parameters={"id": NO_SUCH_ID},
    )


# One read-only request per API function, keyed by its logical id in template.yaml. A test invokes each against
# the local code (tests/contract/test_pre_traffic_hook.py) and fails when an API function has none.
READ_CHECKS: dict[str, ReadCheck] = {
    "HealthFunction": _get("/api/health", Answer(200)),
    "DocsFunction": _get("/api/docs", Answer(200)),
    # Validation refuses an empty login before the handler runs: the function starts and answers, nothing is read.
    "AuthFunction": ReadCheck(
        "POST", "/api/auth/login", "/api/auth/login", (Answer(422, "VALIDATION_ERROR"),), body="{}"
    ),
    "UsersFunction": _get("/api/users/profile", Answer(401, "UNAUTHORIZED")),
    "VenuesFunction": _get("/api/venues", Answer(200), query={"pageSize": "1"}),
    "EventsFunction": _get("/api/events", Answer(200), query={"pageSize": "1"}),
    "CouponsFunction": _get("/api/coupons", Answer(401, "UNAUTHORIZED")),
    "ReviewsFunction": _of_no_event("reviews"),
    "BookingsFunction": _get("/api/bookings", Answer(401, "UNAUTHORIZED")),
    "TicketsFunction": _get("/api/tickets/public-key", Answer(200)),
    # Unsigned, so refused before anything is read or written (404 where Stripe is not the provider).
    "PaymentsFunction": ReadCheck(
        "POST",
        "/api/payments/webhooks/stripe",
        "/api/payments/webhooks/{provider}",
        (Answer(400, "INVALID_SIGNATURE"), Answer(404, "NOT_FOUND")),
        path_parameters={"provider": "stripe"},
        body="{}",
    ),
    "WaitingRoomFunction": _of_no_event("queue"),
}


@dataclass(frozen=True)
class Target:
    """What the deployment shifts: a function (its name, its logical id) to a new version behind an alias."""

    function_name: str
    logical_id: str
    alias: str
    version: str


class CheckFailed(Exception):
    """The new version did not answer as a healthy one does; the message is the reason CodeDeploy shows."""


@cache
def _codedeploy() -> Any:
    return aws_client("codedeploy", CONTROL)


@cache
def _lambda_control() -> Any:
    return aws_client("lambda", CONTROL)


@cache
def _lambda_check() -> Any:
    return aws_client("lambda", CHECK)


def proxy_event(check: ReadCheck) -> dict[str, Any]:
    """The API Gateway (REST, proxy v1) event the check's request would arrive as."""
    headers = {"Accept": "application/json", "User-Agent": "ticketing-pre-traffic-hook"}
    if check.body is not None:
        headers["Content-Type"] = "application/json"
    request_id = str(uuid.uuid4())
    return {
        "resource": check.resource,
        "path": check.path,
        "httpMethod": check.method,
        "headers": headers,
        "multiValueHeaders": {name: [value] for name, value in headers.items()},
        "queryStringParameters": check.query or None,
        "multiValueQueryStringParameters": {name: [value] for name, value in check.query.items()} or None,
        "pathParameters": check.path_parameters or None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": check.resource,
            "httpMethod": check.method,
            "path": check.path,
            "stage": "pre-traffic",
            "requestId": request_id,
            "identity": {"sourceIp": "127.0.0.1", "userAgent": headers["User-Agent"]},
        },
        "body": check.body,
        "isBase64Encoded": False,
    }


def judge(check: ReadCheck, result: Any) -> str:
    """What the answer was when it is one the check accepts; CheckFailed otherwise."""
    if not isinstance(result, dict) or not isinstance(result.get("statusCode"), int):
        raise CheckFailed(f"not an API Gateway proxy answer: {str(result)[:200]}")
    status = result["statusCode"]
    error_code = _error_code(result.get("body"))
    if Answer(status, error_code) in check.accepted:
        return f"{check.method} {check.path} answered {status}{f' {error_code}' if error_code else ''}"
    wanted = ", ".join(f"{answer.status} {answer.error_code or ''}".strip() for answer in check.accepted)
    raise CheckFailed(f"{check.method} {check.path} answered {status} {error_code or ''}, expected {wanted}")


def _error_code(body: Any) -> str | None:
    try:
        return str(json.loads(body)["error"]["code"])
    except (TypeError, ValueError, KeyError):
        return None


def target_of(deployment_id: str) -> Target:
    """The function, alias and target version of the deployment, from its AppSpec."""
    info = _codedeploy().get_deployment(deploymentId=deployment_id)["deploymentInfo"]
    content = info.get("revision", {}).get("appSpecContent", {}).get("content")
    if not content:
        raise CheckFailed(f"deployment {deployment_id} has no AppSpec content")
    try:
        resources = json.loads(content)["Resources"]
    except (ValueError, KeyError) as error:
        raise CheckFailed(f"deployment {deployment_id}: unreadable AppSpec ({error})") from error
    if len(resources) != 1 or len(resources[0]) != 1:
        raise CheckFailed(f"deployment {deployment_id}: expected one Lambda function in the AppSpec")
    [(resource_name, resource)] = resources[0].items()
    properties = resource["Properties"]
    function_name = properties["Name"]
    return Target(
        function_name, _logical_id(function_name, resource_name), properties["Alias"], properties["TargetVersion"]
    )


def _logical_id(function_name: str, resource_name: str) -> str:
    """The function's logical id in the template: CloudFormation's tag on it, else the AppSpec's resource name."""
    arn = _lambda_control().get_function_configuration(FunctionName=function_name)["FunctionArn"]
    tags = _lambda_control().list_tags(Resource=arn).get("Tags", {})
    return str(tags.get(CLOUDFORMATION_LOGICAL_ID_TAG, resource_name))


def check_version(target: Target) -> str:
    """Invokes the target version with its read-only check (a dry run for functions without a route)."""
    check = READ_CHECKS.get(target.logical_id)
    if check is None:
        _lambda_check().invoke(FunctionName=target.function_name, Qualifier=target.version, InvocationType="DryRun")
        return f"{target.logical_id} has no API route: version {target.version} is invocable (dry run)"
    response = _lambda_check().invoke(
        FunctionName=target.function_name,
        Qualifier=target.version,
        InvocationType="RequestResponse",
        Payload=json.dumps(proxy_event(check)).encode("utf-8"),
    )
    payload = response["Payload"].read()
    if response.get("FunctionError"):
        raise CheckFailed(f"{target.logical_id} version {target.version} raised: {payload[:300]!r}")
    try:
        result = json.loads(payload)
    except ValueError as error:
        raise CheckFailed(
            f"{target.logical_id} version {target.version} answered no JSON: {payload[:200]!r}"
        ) from error
    return judge(check, result)


def check_and_report(event: dict[str, Any], context: Any) -> dict[str, str]:
    """CodeDeploy's lifecycle hook: check the target version, then report; every failure is reported as Failed."""
    deployment_id = event["DeploymentId"]
    status, reason = "Succeeded", ""
    try:
        target = target_of(deployment_id)
        reason = check_version(target)
    except CheckFailed as error:
        status, reason = "Failed", str(error)
    except (ClientError, BotoCoreError) as error:
        status, reason = "Failed", f"{type(error).__name__}: {error}"
    except Exception as error:
        # Whatever went wrong, CodeDeploy must hear it now rather than wait an hour for a report that never comes.
        logger.exception("pre-traffic check crashed")
        status, reason = "Failed", f"the hook failed: {type(error).__name__}: {error}"
    logger.info("pre-traffic check", extra={"deploymentId": deployment_id, "status": status, "reason": reason})
    _codedeploy().put_lifecycle_event_hook_execution_status(
        deploymentId=deployment_id,
        lifecycleEventHookExecutionId=event["LifecycleEventHookExecutionId"],
        status=status,
    )
    return {"status": status, "reason": reason}


lambda_handler = instrumented(check_and_report)
# The name the template declares (`Handler: app.handler`); the same instrumented handler.
handler = lambda_handler
