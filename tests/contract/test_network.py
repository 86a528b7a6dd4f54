"""The stack's own network has a VPC endpoint for every AWS API the functions call, and no other.

Without a NAT, a call to a service with no endpoint hangs until the function times out (the first customer
finds it). The services come from the code (devtools/aws_calls.py, as in the permission test); the endpoints
from template.yaml: gateway endpoints where AWS has them (S3, DynamoDB), interface endpoints otherwise.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from devtools.aws_calls import calls_of_function, endpoint_prefix
from devtools.sam_template import read_template

REPO_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = read_template(REPO_ROOT / "template.yaml")
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]
FUNCTIONS = sorted(name for name, r in RESOURCES.items() if r["Type"] == "AWS::Serverless::Function")
GATEWAY_SERVICES = {"s3", "dynamodb"}
# Calls that are not AWS API operations but still reach an AWS service: the migration custom resource answers
# CloudFormation with an HTTPS PUT to a pre-signed S3 URL.
URL_CALLS = {"ticketing.deploy.custom_resource": "s3"}


@cache
def services_called() -> set[str]:
    """The endpoint names (com.amazonaws.<region>.<name>) of every service the functions' code reaches."""
    services = set()
    for function in FUNCTIONS:
        calls = calls_of_function(
            REPO_ROOT / RESOURCES[function]["Properties"]["CodeUri"], [REPO_ROOT / "layers/shared"]
        )
        services |= {endpoint_prefix(call.service) for call in calls.calls}
        services |= {service for module, service in URL_CALLS.items() if module in calls.modules}
    return services


def endpoints(endpoint_type: str) -> set[str]:
    found = set()
    for resource in RESOURCES.values():
        properties = resource.get("Properties", {})
        if resource["Type"] == "AWS::EC2::VPCEndpoint" and properties["VpcEndpointType"] == endpoint_type:
            assert resource["Condition"] == "CreateNetwork"
            found.add(properties["ServiceName"]["Fn::Sub"].removeprefix("com.amazonaws.${AWS::Region}."))
    return found


def test_every_service_the_code_calls_has_an_endpoint_and_no_endpoint_is_idle() -> None:
    assert endpoints("Gateway") | endpoints("Interface") == services_called()


def test_gateway_endpoints_where_aws_has_them_interface_endpoints_otherwise() -> None:
    assert endpoints("Gateway") == services_called() & GATEWAY_SERVICES
    assert endpoints("Interface") == services_called() - GATEWAY_SERVICES


def test_the_reader_sees_the_calls_that_need_the_network() -> None:
    # Given the calls known from the code: secrets, domain events, e-mail, wake-ups, the waiting room table,
    # the custom resource's answer and the pre-traffic hook's report
    # Then each is among the services the endpoints are derived from
    assert {"secretsmanager", "events", "email", "lambda", "dynamodb", "s3", "codedeploy"} <= services_called()


def test_the_own_network_has_two_private_subnets_in_two_zones_and_no_route_out() -> None:
    subnets = [r for r in RESOURCES.values() if r["Type"] == "AWS::EC2::Subnet"]
    zones = [subnet["Properties"]["AvailabilityZone"]["Fn::Select"][0] for subnet in subnets]

    assert sorted(zones) == ["0", "1"]
    assert all(subnet["Condition"] == "CreateNetwork" for subnet in subnets)
    for kind in ("AWS::EC2::NatGateway", "AWS::EC2::InternetGateway", "AWS::EC2::Route"):
        assert not [r for r in RESOURCES.values() if r["Type"] == kind], kind
