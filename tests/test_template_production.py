"""template.yaml describes a production stack: the properties ops and security reviews rely on."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devtools.sam_template import read_template

TEMPLATE = read_template(Path(__file__).resolve().parents[1] / "template.yaml")
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]
GLOBAL_FUNCTION: dict[str, Any] = TEMPLATE["Globals"]["Function"]
FUNCTIONS = {name: r for name, r in RESOURCES.items() if r["Type"] == "AWS::Serverless::Function"}
MASTER_SECRET = {"Fn::GetAtt": ["DatabaseCluster", "MasterUserSecret.SecretArn"]}
# What every function but the migration function connects with (docs/security.md, "Database roles").
DB_SECRET = {"Ref": "AppDatabaseSecret"}


def of_type(resource_type: str) -> dict[str, Any]:
    return {name: r for name, r in RESOURCES.items() if r["Type"] == resource_type}


def walk(node: Any) -> Iterator[Any]:
    yield node
    if isinstance(node, dict):
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk(value)


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def policy_statements() -> Iterator[tuple[str, dict[str, Any]]]:
    for name, resource in RESOURCES.items():
        for node in walk(resource.get("Properties", {})):
            if isinstance(node, dict) and "Effect" in node and "Action" in node:
                yield name, node


def test_aurora_serverless_v2_cluster_is_encrypted_and_manages_its_password() -> None:
    cluster = RESOURCES["DatabaseCluster"]["Properties"]

    assert cluster["Engine"] == "aurora-postgresql"
    assert cluster["EngineVersion"].split(".")[0] in ("15", "16")
    assert cluster["StorageEncrypted"] is True
    assert cluster["ManageMasterUserPassword"] is True
    assert "MasterUserPassword" not in cluster
    assert set(cluster["ServerlessV2ScalingConfiguration"]) == {"MinCapacity", "MaxCapacity"}
    assert cluster["DeletionProtection"] == {"Fn::If": ["IsProd", True, False]}
    assert cluster["BackupRetentionPeriod"] == {"Fn::If": ["IsProd", 14, 7]}
    assert RESOURCES["DatabaseInstance"]["Properties"]["DBInstanceClass"] == {"Ref": "DatabaseInstanceClass"}
    assert RESOURCES["DatabaseInstance"]["Properties"]["PubliclyAccessible"] is False


def test_prod_database_is_snapshotted_on_delete_and_replacement() -> None:
    cluster = RESOURCES["DatabaseCluster"]

    assert cluster["DeletionPolicy"] == {"Fn::If": ["IsProd", "Snapshot", "Delete"]}
    assert cluster["UpdateReplacePolicy"] == {"Fn::If": ["IsProd", "Snapshot", "Delete"]}
    assert "AWS::LanguageExtensions" in TEMPLATE["Transform"]


def test_the_database_requires_tls() -> None:
    parameter_group = RESOURCES["DatabaseClusterParameterGroup"]["Properties"]

    assert parameter_group["Parameters"]["rds.force_ssl"] == "1"
    assert RESOURCES["DatabaseCluster"]["Properties"]["DBClusterParameterGroupName"] == {
        "Ref": "DatabaseClusterParameterGroup"
    }
    assert RESOURCES["DatabaseProxy"]["Properties"]["RequireTLS"] is True
    assert GLOBAL_FUNCTION["Environment"]["Variables"]["DB_SSL"] == "true"


def test_only_the_functions_or_the_proxy_reach_the_database_port() -> None:
    ingress_rules = [
        r["Properties"]
        for r in of_type("AWS::EC2::SecurityGroupIngress").values()
        if r["Properties"]["GroupId"] == {"Ref": "DatabaseSecurityGroup"}
    ]
    inline = RESOURCES["DatabaseSecurityGroup"]["Properties"].get("SecurityGroupIngress", [])

    assert inline == []
    assert {rule["SourceSecurityGroupId"]["Ref"] for rule in ingress_rules} == {
        "FunctionSecurityGroup",
        "ProxySecurityGroup",
    }
    assert all(rule["FromPort"] == rule["ToPort"] == 5432 and "CidrIp" not in rule for rule in ingress_rules)


def test_functions_connect_through_the_proxy_when_it_is_enabled() -> None:
    variables = GLOBAL_FUNCTION["Environment"]["Variables"]

    assert variables["DB_HOST"] == {
        "Fn::If": [
            "UseRdsProxy",
            {"Fn::GetAtt": ["DatabaseProxy", "Endpoint"]},
            {"Fn::GetAtt": ["DatabaseCluster", "Endpoint.Address"]},
        ]
    }
    assert variables["DB_SECRET_ARN"] == DB_SECRET
    assert RESOURCES["DatabaseProxy"]["Condition"] == "UseRdsProxy"
    assert RESOURCES["DatabaseProxyTargetGroup"]["Condition"] == "UseRdsProxy"


def test_no_plain_secret_is_in_the_environment() -> None:
    variables = GLOBAL_FUNCTION["Environment"]["Variables"]
    for function in FUNCTIONS.values():
        variables = {**variables, **function["Properties"].get("Environment", {}).get("Variables", {})}

    assert not {"JWT_SIGNING_KEY", "DATABASE_URL", "DB_PASSWORD", "TICKET_SIGNING_KEY"} & set(variables)
    assert variables["JWT_PUBLIC_KEYS"] == {"Ref": "JwtPublicKeys"}


def test_no_policy_grants_secrets_manager_on_every_resource() -> None:
    offending = [
        name
        for name, statement in policy_statements()
        if "secretsmanager" in str(statement["Action"]) and "*" in as_list(statement["Resource"])
    ]

    assert offending == []


# Serves the OpenAPI document and Swagger UI only (functions/docs/app.py): no database, no secret.
# The pre-traffic hook reads CodeDeploy and Lambda, never the database.
FUNCTIONS_WITHOUT_DATABASE = {"DocsFunction", "PreTrafficHookFunction"}


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_every_function_may_read_exactly_the_secrets_it_uses(name: str) -> None:
    policies = FUNCTIONS[name]["Properties"].get("Policies", [])
    secret_arns = [
        policy["AWSSecretsManagerGetSecretValuePolicy"]["SecretArn"]
        for policy in policies
        if isinstance(policy, dict) and "AWSSecretsManagerGetSecretValuePolicy" in policy
    ]

    if name in FUNCTIONS_WITHOUT_DATABASE:
        assert secret_arns == []
    elif name == "MigrationFunction":
        assert secret_arns == [MASTER_SECRET, DB_SECRET]
    else:
        assert DB_SECRET in secret_arns
        assert MASTER_SECRET not in secret_arns
    known = (
        MASTER_SECRET,
        DB_SECRET,
        {"Ref": "JwtSigningKey"},
        {"Ref": "TicketSigningKey"},
        {"Ref": "AdmissionSigningKey"},
    )
    assert all(arn in known for arn in secret_arns)


def test_only_the_tickets_function_reads_the_ticket_signing_key() -> None:
    readers = {
        name
        for name, function in FUNCTIONS.items()
        for policy in function["Properties"].get("Policies", [])
        if isinstance(policy, dict)
        and policy.get("AWSSecretsManagerGetSecretValuePolicy", {}).get("SecretArn") == {"Ref": "TicketSigningKey"}
    }

    assert readers == {"TicketsFunction"}
    assert FUNCTIONS["TicketsFunction"]["Properties"]["Environment"]["Variables"]["TICKET_SIGNING_KEY_ARN"] == {
        "Ref": "TicketSigningKey"
    }


OWN_SUBNETS = [{"Ref": "PrivateSubnet0"}, {"Ref": "PrivateSubnet1"}]


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_every_function_runs_in_the_vpc_and_logs_with_retention(name: str) -> None:
    properties = {**GLOBAL_FUNCTION, **FUNCTIONS[name]["Properties"]}

    assert properties["VpcConfig"] == {
        "SecurityGroupIds": [{"Ref": "FunctionSecurityGroup"}],
        "SubnetIds": {
            "Fn::If": [
                "CreateNetwork",
                [{"Ref": "PrivateSubnet0"}, {"Ref": "PrivateSubnet1"}],
                {"Ref": "PrivateSubnetIds"},
            ]
        },
    }
    assert properties["LoggingConfig"]["LogGroup"] == {"Ref": "FunctionLogGroup"}
    assert properties["Tracing"] == "Active"
    assert "RetentionInDays" in RESOURCES["FunctionLogGroup"]["Properties"]


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_every_function_has_an_alarm_on_its_errors_and_throttles(name: str) -> None:
    alarmed = [
        alarm_name
        for alarm_name, alarm in of_type("AWS::CloudWatch::Alarm").items()
        if {"Name": "FunctionName", "Value": {"Ref": name}} in list(walk(alarm["Properties"]))
    ]

    assert alarmed, f"no alarm watches {name}"
    metrics = {node.get("MetricName") for node in walk(RESOURCES[alarmed[0]]["Properties"]) if isinstance(node, dict)}
    assert {"Errors", "Throttles"} <= metrics


def test_every_schedule_retries_and_dead_letters() -> None:
    schedules = [
        (name, event["Properties"])
        for name, function in FUNCTIONS.items()
        for event in function["Properties"].get("Events", {}).values()
        if event["Type"] == "Schedule"
    ]

    assert {name for name, _ in schedules} >= {"ExpiryFunction", "OutboxPublisherFunction"}
    for _, schedule in schedules:
        assert schedule["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": ["EventsDeadLetterQueue", "Arn"]}}
        assert schedule["RetryPolicy"]["MaximumRetryAttempts"] >= 1


def test_the_alarms_cover_the_api_the_dead_letters_and_the_database() -> None:
    alarms = of_type("AWS::CloudWatch::Alarm").values()
    watched = {
        node["MetricName"]
        for alarm in alarms
        for node in walk(alarm)
        if isinstance(node, dict) and "MetricName" in node
    }

    assert {"5XXError", "ApproximateNumberOfMessagesVisible", "CPUUtilization", "DatabaseConnections"} <= watched
    assert "OutboxPublishFailures" in watched
    assert all(alarm["Properties"]["AlarmActions"] == [{"Ref": "AlarmTopic"}] for alarm in alarms)
    assert RESOURCES["AlarmEmailSubscription"]["Condition"] == "HasAlarmEmail"


def test_one_dashboard_shows_api_functions_business_and_database() -> None:
    [dashboard] = of_type("AWS::CloudWatch::Dashboard").values()
    body = str(dashboard["Properties"]["DashboardBody"])

    for metric in ("Latency", "5XXError", "4XXError", "Errors", "Duration", "HoldsPlaced", "CPUUtilization"):
        assert metric in body
    assert "DatabaseConnections" in body


def test_the_api_stage_logs_access_traces_and_can_sit_behind_waf() -> None:
    api = RESOURCES["Api"]["Properties"]

    assert api["TracingEnabled"] is True
    assert api["AccessLogSetting"]["DestinationArn"] == {"Fn::GetAtt": ["ApiAccessLogGroup", "Arn"]}
    assert '"requestId":"$context.requestId"' in api["AccessLogSetting"]["Format"]
    assert api["MethodSettings"][0]["ThrottlingRateLimit"] > 0
    assert RESOURCES["ApiWafAssociation"]["Condition"] == "AttachWaf"


def test_migrations_run_on_every_deploy_that_changes_the_layer() -> None:
    [migration] = of_type("AWS::CloudFormation::CustomResource").values()

    assert migration["Properties"]["ServiceToken"] == {"Fn::GetAtt": ["MigrationFunction", "Arn"]}
    assert migration["Properties"]["SharedLayerVersion"] == {"Ref": "SharedLayer"}
    assert migration["Properties"]["ServiceTimeout"] > FUNCTIONS["MigrationFunction"]["Properties"]["Timeout"]


def test_domain_events_flow_from_the_bus_to_the_notification_function() -> None:
    [bus] = of_type("AWS::Events::EventBus")
    rule = FUNCTIONS["NotificationFunction"]["Properties"]["Events"]["BookingEvents"]

    assert rule["Type"] == "EventBridgeRule"
    assert rule["Properties"]["EventBusName"] == {"Ref": bus}
    assert rule["Properties"]["Pattern"]["source"] == ["ticketing"]
    assert set(rule["Properties"]["Pattern"]["detail-type"]) == {
        "BookingConfirmed",
        "BookingCancelled",
        "BookingExpired",
        "EventCancelled",
    }
    assert GLOBAL_FUNCTION["Environment"]["Variables"]["EVENT_BUS_NAME"] == {"Ref": bus}


def test_publishing_and_sending_are_scoped_to_the_bus_and_the_sender() -> None:
    publishers = {
        name
        for name, function in FUNCTIONS.items()
        for policy in function["Properties"].get("Policies", [])
        if isinstance(policy, dict)
        and policy.get("EventBridgePutEventsPolicy") == {"EventBusName": {"Ref": "TicketingBus"}}
    }
    ses_statements = [s for name, s in policy_statements() if "ses:" in str(s["Action"])]

    assert {"OutboxPublisherFunction", "BookingsFunction", "ExpiryFunction", "EventsFunction"} <= publishers
    assert ses_statements
    assert all("identity/" in str(statement["Resource"]) for statement in ses_statements)


def test_throttled_clients_get_the_spec_429_with_retry_after() -> None:
    [api] = of_type("AWS::Serverless::Api").values()
    response = api["Properties"]["GatewayResponses"]["THROTTLED"]

    body = json.loads(response["ResponseTemplates"]["application/json"])
    assert response["StatusCode"] == "429"
    assert body["error"]["code"] == "RATE_LIMITED"
    assert int(response["ResponseParameters"]["Headers"]["Retry-After"].strip("'")) >= 1


def test_a_prod_stage_cannot_be_deployed_with_the_test_payment_provider() -> None:
    rule = TEMPLATE["Rules"]["ProdTakesRealPayments"]

    assert rule["RuleCondition"] == {"Fn::Equals": [{"Ref": "Stage"}, "prod"]}
    assert rule["Assertions"][0]["Assert"] == {"Fn::Equals": [{"Ref": "PaymentProvider"}, "stripe"]}
    assert TEMPLATE["Parameters"]["PaymentProvider"]["AllowedValues"] == ["test", "stripe"]
    assert GLOBAL_FUNCTION["Environment"]["Variables"]["STAGE"] == {"Ref": "Stage"}


CDN_RESOURCES = ("Cdn", "PublicReadCachePolicy", "PublicReadOriginRequestPolicy")
MANAGED_CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
MANAGED_ALL_VIEWER_EXCEPT_HOST = "b689b0a8-53d0-40ab-baf2-68738e2966ac"


def test_the_distribution_and_its_policies_exist_only_when_the_cdn_is_on() -> None:
    parameter = TEMPLATE["Parameters"]["EnableCdn"]

    assert (parameter["Default"], parameter["AllowedValues"]) == ("true", ["true", "false"])
    assert TEMPLATE["Conditions"]["UseCdn"] == {"Fn::Equals": [{"Ref": "EnableCdn"}, "true"]}
    assert {name: RESOURCES[name]["Condition"] for name in CDN_RESOURCES} == dict.fromkeys(CDN_RESOURCES, "UseCdn")
    assert TEMPLATE["Outputs"]["CdnUrl"]["Condition"] == "UseCdn"
    assert not [
        name
        for name, resource in RESOURCES.items()
        if name not in CDN_RESOURCES
        and any(
            node == {"Ref": cdn} or node == {"Fn::GetAtt": [cdn, "DomainName"]}
            for cdn in CDN_RESOURCES
            for node in walk(resource)
        )
    ], "a resource outside the condition refers to the distribution"


def test_the_api_is_regional_behind_the_distribution_and_edge_optimised_without_it() -> None:
    endpoint = RESOURCES["Api"]["Properties"]["EndpointConfiguration"]

    assert endpoint == {"Type": {"Fn::If": ["UseCdn", "REGIONAL", "EDGE"]}}


def test_only_public_reads_under_api_events_use_the_caching_policy() -> None:
    config = RESOURCES["Cdn"]["Properties"]["DistributionConfig"]
    default = config["DefaultCacheBehavior"]
    cached = {behavior["PathPattern"]: behavior for behavior in config["CacheBehaviors"]}

    assert default["CachePolicyId"] == MANAGED_CACHING_DISABLED
    assert default["OriginRequestPolicyId"] == MANAGED_ALL_VIEWER_EXCEPT_HOST
    assert set(cached) == {"/api/events", "/api/events/*"}
    for behavior in [default, *cached.values()]:
        assert behavior["CachedMethods"] == ["GET", "HEAD"]
        assert "POST" in behavior["AllowedMethods"]
        assert behavior["ViewerProtocolPolicy"] == "redirect-to-https"
    for behavior in cached.values():
        assert behavior["CachePolicyId"] == {"Ref": "PublicReadCachePolicy"}
        assert behavior["OriginRequestPolicyId"] == {"Ref": "PublicReadOriginRequestPolicy"}


def test_the_cache_key_is_path_query_and_encoding_and_the_origin_decides_the_lifetime() -> None:
    config = RESOURCES["PublicReadCachePolicy"]["Properties"]["CachePolicyConfig"]
    key = config["ParametersInCacheKeyAndForwardedToOrigin"]

    assert (config["MinTTL"], config["DefaultTTL"]) == (0, 0)
    assert key["EnableAcceptEncodingGzip"] is True
    assert key["QueryStringsConfig"] == {"QueryStringBehavior": "all"}
    assert key["CookiesConfig"] == {"CookieBehavior": "none"}
    # Authorization reaches the origin only through the key; anonymous viewers share its empty value.
    assert key["HeadersConfig"] == {"HeaderBehavior": "whitelist", "Headers": ["Authorization", "Origin"]}


def test_the_distribution_reaches_the_api_stage_over_https() -> None:
    (origin,) = RESOURCES["Cdn"]["Properties"]["DistributionConfig"]["Origins"]

    assert origin["DomainName"] == {"Fn::Sub": "${Api}.execute-api.${AWS::Region}.${AWS::URLSuffix}"}
    assert origin["OriginPath"] == {"Fn::Sub": "/${Stage}"}
    assert origin["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"


def test_a_web_acl_attaches_at_the_edge_only_when_given() -> None:
    config = RESOURCES["Cdn"]["Properties"]["DistributionConfig"]

    assert TEMPLATE["Parameters"]["EdgeWafWebAclArn"]["Default"] == ""
    assert TEMPLATE["Conditions"]["HasEdgeWaf"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "EdgeWafWebAclArn"}, ""]}]}
    assert config["WebACLId"] == {"Fn::If": ["HasEdgeWaf", {"Ref": "EdgeWafWebAclArn"}, {"Ref": "AWS::NoValue"}]}


def test_the_instance_class_parameter_offers_exactly_what_the_capacity_model_knows() -> None:
    from ticketing.capacity.anchors import INSTANCE_CLASSES, SERVERLESS

    parameter = TEMPLATE["Parameters"]["DatabaseInstanceClass"]
    instances = [
        RESOURCES[name]["Properties"]["DBInstanceClass"] for name in ("DatabaseInstance", "DatabaseReplicaInstance")
    ]

    assert parameter["Default"] == SERVERLESS
    assert set(parameter["AllowedValues"]) == {SERVERLESS, *INSTANCE_CLASSES}
    assert instances == [{"Ref": "DatabaseInstanceClass"}] * 2


def test_only_the_waiting_room_and_the_buying_path_read_the_admission_signing_key() -> None:
    readers = {
        name
        for name, function in FUNCTIONS.items()
        for policy in function["Properties"].get("Policies", [])
        if isinstance(policy, dict)
        and policy.get("AWSSecretsManagerGetSecretValuePolicy", {}).get("SecretArn") == {"Ref": "AdmissionSigningKey"}
    }

    assert readers == {"WaitingRoomFunction", "BookingsFunction"}
