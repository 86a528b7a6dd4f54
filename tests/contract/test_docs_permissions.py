"""docs/deploy.md lists each function's AWS calls, and the list is the one the code makes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from devtools.aws_calls import calls_of_function
from devtools.sam_template import read_template

REPO_ROOT = Path(__file__).resolve().parents[2]
RESOURCES = read_template(REPO_ROOT / "template.yaml")["Resources"]
FUNCTIONS = sorted(name for name, r in RESOURCES.items() if r["Type"] == "AWS::Serverless::Function")
DEPLOY_DOC = (REPO_ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")


def documented_calls(function: str) -> set[str]:
    row = re.search(rf"^\| `{function}` \| ([^|]*) \|", DEPLOY_DOC, re.MULTILINE)
    assert row is not None, f"add a row for {function} to docs/deploy.md, 'Permissions and network'"
    return set(re.findall(r"`([a-z0-9-]+:[A-Za-z]+)`", row.group(1)))


@pytest.mark.parametrize("function", FUNCTIONS)
def test_the_permissions_table_lists_exactly_the_calls_the_code_makes(function: str) -> None:
    code_dir = REPO_ROOT / RESOURCES[function]["Properties"]["CodeUri"]

    assert documented_calls(function) == calls_of_function(code_dir, [REPO_ROOT / "layers" / "shared"]).actions
