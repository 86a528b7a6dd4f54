"""Every AWS call a function's code makes is allowed by its role, on the resource it uses, and nothing more.

The calls are read from the code (devtools/aws_calls.py: boto3 operations and Powertools Parameters, following
each function's imports into the layer); the roles are what CloudFormation gets: template.yaml expanded by
samtranslator, SAM policy templates included. A call's resource is the template resource (or parameter) that
the environment variable the code reads points at; a call whose resource arrives in the event (the pre-traffic
hook's deployment) needs a statement naming resources, never `*`.
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from devtools.aws_calls import FunctionCalls, calls_of_function
from devtools.sam_cli import run_in_sam_cli
from devtools.sam_template import read_template

REPO_ROOT = Path(__file__).resolve().parents[2]
LAYER = REPO_ROOT / "layers" / "shared"
TEMPLATE = read_template(REPO_ROOT / "template.yaml")
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]
FUNCTIONS = sorted(name for name, r in RESOURCES.items() if r["Type"] == "AWS::Serverless::Function")
# The service a template resource type (or a parameter holding an identifier) belongs to, by IAM prefix.
SERVICE_OF_TYPE = {
    "AWS::SecretsManager::Secret": "secretsmanager",
    "AWS::DynamoDB::Table": "dynamodb",
    "AWS::Serverless::Function": "lambda",
    "AWS::Events::EventBus": "events",
}
SERVICE_OF_PARAMETER = {
    "StripeSecretKeyArn": "secretsmanager",
    "StripeWebhookSecretArn": "secretsmanager",
    "EmailFromAddress": "ses",
}
# Policies SAM adds for Lambda's own use of the role, not the code's: delivering failed async events.
LAMBDA_SERVICE_POLICIES = {"DeadLetterQueuePolicy"}
# Actions IAM cannot restrict to a resource: the only ones a statement may grant on "*".
WITHOUT_RESOURCE_LEVEL = {"xray:PutTraceSegments", "xray:PutTelemetryRecords", "cloudwatch:PutMetricData"}


# The SAM transform, run by aws-sam-cli's own translator.
TRANSFORM = """
import json, sys
from samtranslator.translator.transform import transform
class NoManagedPolicies:
    def load(self):
        return {}
json.dump(transform(json.load(sys.stdin), {}, NoManagedPolicies())["Resources"], sys.stdout)
"""


@cache
def roles() -> dict[str, Any]:
    """The template after the SAM transform, as CloudFormation receives it (code locations as after packaging)."""
    template = read_template(REPO_ROOT / "template.yaml")
    template["Transform"] = "AWS::Serverless-2016-10-31"
    for name, resource in template["Resources"].items():
        for key in ("CodeUri", "ContentUri"):
            if key in resource.get("Properties", {}):
                resource["Properties"][key] = f"s3://packaged/{name}.zip"
    resources: dict[str, Any] = json.loads(run_in_sam_cli(TRANSFORM, json.dumps(template)))
    return resources


@cache
def code_calls(function: str) -> FunctionCalls:
    code_uri = RESOURCES[function]["Properties"]["CodeUri"]
    return calls_of_function(REPO_ROOT / code_uri, [LAYER])


def statements(function: str, *, for_the_code: bool = False) -> list[dict[str, Any]]:
    """The allow statements of the function's role; both sides of a condition count (either may deploy)."""
    role = roles()[f"{function}Role"]["Properties"]
    found = []
    for policy in _branches(role.get("Policies", [])):
        if for_the_code and policy["PolicyName"] in LAMBDA_SERVICE_POLICIES:
            continue
        for statement in _branches(policy["PolicyDocument"]["Statement"]):
            assert statement["Effect"] == "Allow"
            found.append(statement)
    return found


def _branches(items: list[Any]) -> Iterator[dict[str, Any]]:
    for item in items:
        if set(item) == {"Fn::If"}:
            yield from _branches([branch for branch in item["Fn::If"][1:] if branch != {"Ref": "AWS::NoValue"}])
        else:
            yield item


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def names_in(expression: Any) -> set[str]:
    """The template resources and parameters an expression refers to (Ref, GetAtt, ${...} in Sub)."""
    if isinstance(expression, list):
        return {name for item in expression for name in names_in(item)}
    if not isinstance(expression, dict):
        return set()
    found = set()
    for key, value in expression.items():
        if key == "Ref" and isinstance(value, str):
            found.add(value)
        elif key == "Fn::GetAtt":
            found.add(as_list(value)[0] if isinstance(value, list) else value.split(".")[0])
        elif key == "Fn::Sub":
            text, variables = (value, {}) if isinstance(value, str) else value
            found |= {name.split(".")[0] for name in re.findall(r"\$\{([^!}]+)\}", text) if name not in variables}
            found |= names_in(list(variables.values()))
        else:
            found |= names_in(value)
    return {name for name in found if not name.startswith("AWS::")}


def service_of(name: str, expression: Any) -> str | None:
    if name in SERVICE_OF_PARAMETER:
        return SERVICE_OF_PARAMETER[name]
    if name == "DatabaseCluster":  # its MasterUserSecret
        return "secretsmanager" if "Secret" in str(expression) else None
    return SERVICE_OF_TYPE.get(RESOURCES.get(name, {}).get("Type", ""))


def environment(function: str) -> dict[str, Any]:
    own = RESOURCES[function]["Properties"].get("Environment", {}).get("Variables", {})
    return {**TEMPLATE["Globals"]["Function"]["Environment"]["Variables"], **own}


def resources_used(function: str) -> dict[str, set[str]]:
    """Per service, the template resources the function's code reaches through the variables it reads."""
    variables = environment(function)
    used: dict[str, set[str]] = {}
    for variable in code_calls(function).settings_read & set(variables):
        for name in names_in(variables[variable]):
            if service := service_of(name, variables[variable]):
                used.setdefault(service, set()).add(name)
    return used


def allows(statement: dict[str, Any], action: str) -> bool:
    return any(fnmatch.fnmatchcase(action, pattern) for pattern in as_list(statement["Action"]))


@pytest.mark.parametrize("function", FUNCTIONS)
def test_every_call_the_code_makes_is_allowed_on_the_resource_it_uses(function: str) -> None:
    used = resources_used(function)
    missing = []
    for action in sorted(code_calls(function).actions):
        granting = [statement for statement in statements(function) if allows(statement, action)]
        targets = used.get(action.split(":")[0], set())
        # Without one the resource comes from the event (a deployment, a function version): named, never "*".
        if not targets and not any("*" not in as_list(statement["Resource"]) for statement in granting):
            missing.append(f"{action} on a named resource")
        for target in sorted(targets):
            if not any(target in names_in(statement["Resource"]) for statement in granting):
                missing.append(f"{action} on {target}")

    assert missing == [], f"{function}'s role lacks: {missing} (template.yaml, its Policies)"


@pytest.mark.parametrize("function", FUNCTIONS)
def test_a_role_allows_nothing_the_code_does_not_call(function: str) -> None:
    called = code_calls(function).actions
    unused = sorted(
        {
            pattern
            for statement in statements(function, for_the_code=True)
            for pattern in as_list(statement["Action"])
            if not any(fnmatch.fnmatchcase(action, pattern) for action in called)
        }
    )

    assert unused == [], f"{function}'s role allows what its code never calls: {unused}"


@pytest.mark.parametrize("function", FUNCTIONS)
def test_no_statement_allows_an_action_on_every_resource(function: str) -> None:
    on_everything = [
        statement["Action"]
        for statement in statements(function)
        if "*" in as_list(statement["Resource"]) and not set(as_list(statement["Action"])) <= WITHOUT_RESOURCE_LEVEL
    ]

    assert on_everything == [], f"{function}: name the resources of {on_everything}"


def test_the_reader_finds_the_calls_the_code_is_known_to_make() -> None:
    # Given functions whose calls are known from their code, one per kind of call the reader recognises
    # When their calls are read
    # Then boto3 attribute calls, operations named as strings, Powertools Parameters and importlib-loaded
    # providers are all found, and the resources follow from the settings the code reads
    assert {"events:PutEvents", "lambda:InvokeFunction"} <= code_calls("EventsFunction").actions
    assert code_calls("WaitingRoomControllerFunction").actions >= {"dynamodb:Query", "dynamodb:BatchGetItem"}
    assert "secretsmanager:GetSecretValue" in code_calls("HealthFunction").actions
    assert "ses:SendEmail" in code_calls("NotificationFunction").actions
    # an operation handed to the module that owns the client (health samples: store.call("put_item", ...))
    assert "dynamodb:PutItem" in code_calls("BookingsFunction").actions
    # the layer's bounded factory and secret reader (ticketing.aws_clients)
    assert "dynamodb:UpdateItem" in code_calls("AuthFunction").actions
    assert resources_used("PaymentsFunction")["secretsmanager"] == {
        "AppDatabaseSecret",
        "StripeSecretKeyArn",
        "StripeWebhookSecretArn",
    }
    assert resources_used("EventsFunction")["lambda"] == {"RefundsFunction", "OutboxPublisherFunction"}
    assert "JwtSigningKey" not in resources_used("HealthFunction").get("secretsmanager", set())
