"""Every function of template.yaml has its alarms, generated once by `Fn::ForEach` rather than written out."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from devtools.sam_cli import run_in_sam_cli
from devtools.sam_template import read_template

TEMPLATE = read_template(Path(__file__).resolve().parents[1] / "template.yaml")
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]
FUNCTIONS = sorted(name for name, r in RESOURCES.items() if r["Type"] == "AWS::Serverless::Function")
API_FUNCTIONS = sorted(
    name
    for name in FUNCTIONS
    if any(event["Type"] == "Api" for event in RESOURCES[name]["Properties"].get("Events", {}).values())
)


def watched_metrics(alarm: dict[str, Any], function: str) -> set[str]:
    """The AWS/Lambda metrics an alarm reads for one function, single-metric or metric-math."""
    properties = alarm["Properties"]
    dimension = {"Name": "FunctionName", "Value": {"Ref": function}}
    metrics = [query["MetricStat"]["Metric"] for query in properties.get("Metrics", []) if "MetricStat" in query]
    if "MetricName" in properties:
        metrics.append(properties)
    return {
        metric["MetricName"]
        for metric in metrics
        if metric["Namespace"] == "AWS/Lambda" and metric["Dimensions"] == [dimension]
    }


@pytest.mark.parametrize("function", FUNCTIONS)
def test_every_function_has_a_failures_alarm_on_its_errors_and_throttles(function: str) -> None:
    alarm = RESOURCES.get(f"{function}FailuresAlarm")

    assert alarm is not None, f"add {function} to Fn::ForEach::FunctionFailureAlarms in template.yaml"
    assert alarm["Type"] == "AWS::CloudWatch::Alarm"
    assert watched_metrics(alarm, function) == {"Errors", "Throttles"}
    assert alarm["Properties"]["AlarmActions"] == [{"Ref": "AlarmTopic"}]


@pytest.mark.parametrize("function", API_FUNCTIONS)
def test_every_api_function_has_a_p99_latency_alarm_below_its_timeout(function: str) -> None:
    alarm = RESOURCES.get(f"{function}LatencyAlarm")
    timeout_ms = 1000 * RESOURCES[function]["Properties"].get("Timeout", TEMPLATE["Globals"]["Function"]["Timeout"])

    assert alarm is not None, f"add {function} to Fn::ForEach::ApiFunctionLatencyAlarms in template.yaml"
    assert watched_metrics(alarm, function) == {"Duration"}
    assert alarm["Properties"]["ExtendedStatistic"] == "p99"
    assert 0 < alarm["Properties"]["Threshold"] < timeout_ms


def test_the_sweeps_alarm_on_failures_repeated_minute_after_minute() -> None:
    for function in ("ExpiryFunction", "WaitingRoomControllerFunction"):
        properties = RESOURCES[f"{function}FailuresAlarm"]["Properties"]

        assert properties["Threshold"] == 1
        assert properties["EvaluationPeriods"] == properties["DatapointsToAlarm"] >= 2
        assert {query["MetricStat"]["Period"] for query in properties["Metrics"] if "MetricStat" in query} == {60}


def test_the_per_function_alarms_are_written_once_not_per_function() -> None:
    text = (Path(__file__).resolve().parents[1] / "template.yaml").read_text(encoding="utf-8")

    assert text.count("MetricName: Errors") == 1
    assert text.count("MetricName: Duration") == 1


EXPAND_WITH_SAM_CLI = """
import json, sys
from samcli.yamlhelper import yaml_parse
from samcli.lib.cfn_language_extensions.api import process_template
resources = process_template(yaml_parse(sys.stdin.read()))["Resources"]
json.dump({name: [r["Type"], r.get("Condition")] for name, r in resources.items()}, sys.stdout)
"""


def test_the_local_reader_expands_the_loops_into_the_resources_aws_sam_cli_does() -> None:
    # Given the template, expanded by aws-sam-cli's own AWS::LanguageExtensions processor
    text = (Path(__file__).resolve().parents[1] / "template.yaml").read_text(encoding="utf-8")
    expanded_by_sam_cli = json.loads(run_in_sam_cli(EXPAND_WITH_SAM_CLI, text))

    # Then the reader the local runner and the tests use produces the same resources, types and conditions
    assert {name: [r["Type"], r.get("Condition")] for name, r in RESOURCES.items()} == expanded_by_sam_cli
