"""Reading a SAM template into what the local runner needs."""

from pathlib import Path

import pytest

from devtools.sam_template import (
    ApiRoute,
    FunctionSpec,
    GatewayResponse,
    TemplateError,
    binary_media_types,
    load_template,
    read_template,
)

FIXTURES = Path(__file__).parent / "fixtures"
TEMPLATE = FIXTURES / "template.yaml"


def function_named(logical_id: str) -> FunctionSpec:
    return next(f for f in load_template(TEMPLATE).functions if f.logical_id == logical_id)


def test_given_template_when_loaded_then_every_serverless_function_is_listed() -> None:
    app = load_template(TEMPLATE)

    assert [function.logical_id for function in app.functions] == [
        "EchoFunction",
        "ProxyFunction",
        "ReportFunction",
        "SlowFunction",
        "HugeFunction",
        "ArchiveFunction",
        "FailingFunction",
        "MalformedFunction",
        "EnvironmentFunction",
        "GateFunction",
        "ProcessFunction",
        "SlowInitFunction",
    ]


def test_given_relative_code_uri_when_loaded_then_it_is_absolute_from_template_folder() -> None:
    echo = function_named("EchoFunction")

    assert echo.code_uri == (FIXTURES / "functions" / "echo").resolve()
    assert echo.code_uri.is_absolute()


def test_given_globals_when_function_sets_nothing_then_global_settings_apply() -> None:
    proxy = function_named("ProxyFunction")

    assert (proxy.handler, proxy.timeout, proxy.memory_size) == (
        "app.lambda_handler",
        5,
        256,
    )


def test_given_globals_when_function_overrides_then_function_values_win() -> None:
    echo = function_named("EchoFunction")
    slow = function_named("SlowFunction")

    assert (echo.memory_size, slow.timeout) == (512, 1)


def test_given_no_globals_when_loaded_then_lambda_defaults_apply(tmp_path: Path) -> None:
    (tmp_path / "template.yaml").write_text(
        "Resources:\n"
        "  Bare:\n"
        "    Type: AWS::Serverless::Function\n"
        "    Properties: {CodeUri: src, Handler: main.handle}\n"
    )

    [bare] = load_template(tmp_path / "template.yaml").functions

    assert (bare.timeout, bare.memory_size, bare.environment) == (3, 128, {})
    assert (bare.api_events, bare.schedule_events) == ([], [])


def test_given_environment_in_globals_and_function_then_merged_without_intrinsics() -> None:
    echo = function_named("EchoFunction")

    assert echo.environment == {
        "FIXTURE_GREETING": "hello from the template",
        "FIXTURE_OVERRIDDEN": "template value",
        "FIXTURE_ECHO_ONLY": "42",
    }


def test_given_api_events_when_loaded_then_methods_are_upper_case_routes() -> None:
    assert function_named("EchoFunction").api_events == [
        ApiRoute("GET", "/items/{id}"),
        ApiRoute("GET", "/items/mine"),
        ApiRoute("POST", "/items"),
        ApiRoute("POST", "/uploads"),
    ]
    assert function_named("ProxyFunction").api_events == [ApiRoute("ANY", "/files/{proxy+}")]


def test_given_schedule_and_schedule_v2_events_then_both_expressions_are_listed() -> None:
    assert function_named("ReportFunction").schedule_events == [
        "rate(1 day)",
        "cron(0 * * * ? *)",
    ]


def test_given_binary_media_types_in_api_and_globals_then_decoded_and_combined() -> None:
    assert load_template(TEMPLATE).binary_media_types == [
        "image/png",
        "application/gzip",
    ]


def test_given_no_serverless_api_when_reading_binary_types_then_empty() -> None:
    assert binary_media_types({"Resources": {}}) == []


def test_given_every_short_form_tag_when_read_then_long_form_dicts(
    tmp_path: Path,
) -> None:
    (tmp_path / "template.yaml").write_text(
        "Values:\n"
        "  - !Ref Stage\n"
        "  - !Sub '${AWS::StackName}-x'\n"
        "  - !GetAtt Table.Arn\n"
        "  - !If [IsProd, a, b]\n"
        "  - !Equals [!Ref Stage, prod]\n"
        "  - !Not [!Condition IsProd]\n"
        "  - !Select [0, !GetAZs '']\n"
        "  - !Join [',', [a, b]]\n"
        "  - !FindInMap [Map, Key, Value]\n"
        "  - !Split [',', 'a,b']\n"
        "  - !ImportValue SharedVpc\n"
        "  - !Base64 text\n"
        "  - !Cidr [10.0.0.0/16, 4, 8]\n"
        "  - !And [!Condition A, !Condition B]\n"
        "  - !Or [!Condition A, !Condition B]\n"
    )

    values = read_template(tmp_path / "template.yaml")["Values"]

    assert values == [
        {"Ref": "Stage"},
        {"Fn::Sub": "${AWS::StackName}-x"},
        {"Fn::GetAtt": ["Table", "Arn"]},
        {"Fn::If": ["IsProd", "a", "b"]},
        {"Fn::Equals": [{"Ref": "Stage"}, "prod"]},
        {"Fn::Not": [{"Condition": "IsProd"}]},
        {"Fn::Select": [0, {"Fn::GetAZs": ""}]},
        {"Fn::Join": [",", ["a", "b"]]},
        {"Fn::FindInMap": ["Map", "Key", "Value"]},
        {"Fn::Split": [",", "a,b"]},
        {"Fn::ImportValue": "SharedVpc"},
        {"Fn::Base64": "text"},
        {"Fn::Cidr": ["10.0.0.0/16", 4, 8]},
        {"Fn::And": [{"Condition": "A"}, {"Condition": "B"}]},
        {"Fn::Or": [{"Condition": "A"}, {"Condition": "B"}]},
    ]


def test_given_function_without_handler_when_loaded_then_template_error(
    tmp_path: Path,
) -> None:
    (tmp_path / "template.yaml").write_text(
        "Resources:\n  Broken:\n    Type: AWS::Serverless::Function\n    Properties: {CodeUri: src}\n"
    )

    with pytest.raises(TemplateError, match="Broken"):
        load_template(tmp_path / "template.yaml")


def test_given_gateway_responses_when_loaded_then_status_headers_and_json_template_are_read() -> None:
    responses = load_template(TEMPLATE).gateway_responses

    assert responses["MISSING_AUTHENTICATION_TOKEN"] == GatewayResponse(
        404, {}, '{"error": {"code": "NOT_FOUND", "message": "No such path.", "details": {}}}'
    )
    assert responses["DEFAULT_4XX"].status_code is None
    assert responses["DEFAULT_4XX"].headers == {"X-Fixture-Gateway": "4xx"}


def test_the_projects_template_serves_the_same_routes_with_its_conditional_distribution() -> None:
    project_template = Path(__file__).resolve().parents[2] / "template.yaml"
    functions = load_template(project_template).functions
    resources = read_template(project_template)["Resources"]

    assert resources["Cdn"]["Condition"] == "UseCdn"
    assert "Cdn" not in {function.logical_id for function in functions}
    assert ApiRoute("GET", "/api/events/{id}/seats/status") in [
        route for function in functions for route in function.api_events
    ]


def test_given_a_for_each_loop_when_read_then_it_is_expanded_like_language_extensions(tmp_path: Path) -> None:
    template = tmp_path / "template.yaml"
    template.write_text(
        """
Transform: [AWS::LanguageExtensions, AWS::Serverless-2016-10-31]
Mappings:
  Limits:
    SlowFunction: {Seconds: 29}
Resources:
  Fn::ForEach::Alarms:
    - Function
    - [FastFunction, SlowFunction]
    - ${Function}Alarm:
        Type: AWS::CloudWatch::Alarm
        Properties:
          AlarmDescription: !Sub "${Function} in ${AWS::StackName}"
          Dimensions: [{Name: FunctionName, Value: {Ref: !Sub "${Function}"}}]
          Name: !Ref Function
          Threshold: !FindInMap [Limits, !Ref Function, Seconds, DefaultValue: 3]
""",
        encoding="utf-8",
    )

    resources = read_template(template)["Resources"]

    assert sorted(resources) == ["FastFunctionAlarm", "SlowFunctionAlarm"]
    slow = resources["SlowFunctionAlarm"]["Properties"]
    assert slow["AlarmDescription"] == {"Fn::Sub": "SlowFunction in ${AWS::StackName}"}
    assert slow["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": "SlowFunction"}}]
    assert slow["Name"] == "SlowFunction"
    assert slow["Threshold"] == 29
    assert resources["FastFunctionAlarm"]["Properties"]["Threshold"] == 3
