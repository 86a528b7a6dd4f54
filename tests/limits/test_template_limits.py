"""The deployed shape of the rate limits (docs/security.md, "Rate limits"), read from template.yaml."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from devtools.sam_template import read_template

TEMPLATE = read_template(Path(__file__).resolve().parents[2] / "template.yaml")
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]
LIMITED_FUNCTIONS = {"AuthFunction": "GetItem", "BookingsFunction": "UpdateItem", "WaitingRoomFunction": "UpdateItem"}


def test_the_limits_are_configured_as_documented_for_every_function() -> None:
    environment = TEMPLATE["Globals"]["Function"]["Environment"]["Variables"]

    assert environment["RATE_LIMIT_ACCOUNT_PER_MINUTE"] == "60"
    assert environment["RATE_LIMIT_ADDRESS_PER_MINUTE"] == "300"
    assert environment["LOGIN_FAILURES_BEFORE_DELAY"] == "5"


@pytest.mark.parametrize(("function", "action"), sorted(LIMITED_FUNCTIONS.items()))
def test_each_rate_limited_function_reaches_the_limit_store(function: str, action: str) -> None:
    properties = RESOURCES[function]["Properties"]
    statements = [
        statement
        for policy in properties["Policies"]
        if isinstance(policy, dict) and "Statement" in policy
        for statement in policy["Statement"]
    ]

    assert properties["Environment"]["Variables"]["WAITING_ROOM_TABLE"] == {"Ref": "WaitingRoomTable"}
    assert any(f"dynamodb:{action}" in statement["Action"] for statement in statements)


def test_the_auth_function_may_touch_only_the_limits_items() -> None:
    [statement] = [
        statement
        for policy in RESOURCES["AuthFunction"]["Properties"]["Policies"]
        if isinstance(policy, dict) and "Statement" in policy
        for statement in policy["Statement"]
    ]

    assert statement["Condition"] == {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["LIMIT#*"]}}


def test_the_stacks_own_web_acl_has_a_rate_based_rule_and_aws_managed_groups() -> None:
    acl = RESOURCES["ApiWebAcl"]
    rules = acl["Properties"]["Rules"]
    managed = {
        rule["Statement"]["ManagedRuleGroupStatement"]["Name"]
        for rule in rules
        if "ManagedRuleGroupStatement" in rule["Statement"]
    }
    [rate] = [rule["Statement"]["RateBasedStatement"] for rule in rules if "RateBasedStatement" in rule["Statement"]]

    assert acl["Condition"] == "CreateWaf"
    assert TEMPLATE["Parameters"]["CreateWafWebAcl"]["Default"] == "false"
    assert rate == {"Limit": {"Ref": "WafRequestsPer5Minutes"}, "AggregateKeyType": "IP"}
    assert {
        "AWSManagedRulesCommonRuleSet",
        "AWSManagedRulesKnownBadInputsRuleSet",
        "AWSManagedRulesAmazonIpReputationList",
    } <= managed
    assert RESOURCES["ApiWafAssociation"]["Properties"]["WebACLArn"] == {
        "Fn::If": ["CreateWaf", {"Fn::GetAtt": ["ApiWebAcl", "Arn"]}, {"Ref": "WafWebAclArn"}]
    }


def test_no_quota_answer_without_a_usage_plan() -> None:
    # Quotas exist only with usage plans and API keys; the API uses neither, so QUOTA_EXCEEDED could never fire.
    gateway_responses = RESOURCES["Api"]["Properties"]["GatewayResponses"]

    assert not [
        resource
        for resource in RESOURCES.values()
        if resource["Type"] in {"AWS::ApiGateway::UsagePlan", "AWS::ApiGateway::ApiKey"}
    ]
    assert "Auth" not in RESOURCES["Api"]["Properties"] or "UsagePlan" not in RESOURCES["Api"]["Properties"]["Auth"]
    assert "QUOTA_EXCEEDED" not in gateway_responses
