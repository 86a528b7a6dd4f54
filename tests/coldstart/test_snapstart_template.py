"""template.yaml turns SnapStart on for every function's published version, and it can be switched off."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from devtools.sam_template import read_template

TEMPLATE = read_template(Path(__file__).resolve().parents[2] / "template.yaml")
GLOBAL_FUNCTION: dict[str, Any] = TEMPLATE["Globals"]["Function"]
FUNCTIONS = {
    name: resource["Properties"]
    for name, resource in TEMPLATE["Resources"].items()
    if resource["Type"] == "AWS::Serverless::Function"
}


def test_snapstart_applies_to_published_versions_behind_an_alias_unless_switched_off() -> None:
    # Then every deploy publishes a version behind one alias, which API Gateway and the event sources call
    assert GLOBAL_FUNCTION["AutoPublishAlias"] == "live"
    # And SnapStart snapshots those versions while EnableSnapStart is "true" (the default)
    assert GLOBAL_FUNCTION["SnapStart"] == {"ApplyOn": {"Fn::If": ["UseSnapStart", "PublishedVersions", "None"]}}
    assert TEMPLATE["Conditions"]["UseSnapStart"] == {"Fn::Equals": [{"Ref": "EnableSnapStart"}, "true"]}
    assert TEMPLATE["Parameters"]["EnableSnapStart"]["Default"] == "true"


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_no_function_uses_what_snapstart_excludes(name: str) -> None:
    properties = {**GLOBAL_FUNCTION, **FUNCTIONS[name]}

    assert properties.get("Runtime") == "python3.12"
    assert "SnapStart" not in FUNCTIONS[name]  # none opts out on its own: the parameter decides for all
    assert "ProvisionedConcurrencyConfig" not in properties
    assert "FileSystemConfigs" not in properties
    assert int((properties.get("EphemeralStorage") or {}).get("Size", 512)) <= 512
