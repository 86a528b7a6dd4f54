"""Claims the docs make about the code, checked against the code: a stale sentence fails here, not in review.

The Python version is stated in many places (template runtime, packaging, tools, prose); the template's
`Runtime` is the one that decides, everything else must say the same. API Gateway's own answers are
configured in the template's gateway responses; the docs' statuses for them must be those.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from devtools.sam_template import gateway_responses, read_template

REPO_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = read_template(REPO_ROOT / "template.yaml")
PROSE = [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").glob("*.md"))]
PACKAGES = [REPO_ROOT / "layers" / "shared" / "pyproject.toml", REPO_ROOT / "devtools" / "pyproject.toml"]
# Python versions as the docs write them: "Python 3.12", "python3.12", "CPython 3.12", "3.12 (or 3.11)".
# (No other software the docs name has a 3.1x version; widen this if one ever does.)
_STATED_VERSION = re.compile(r"\b(3\.1\d)\b")
_FIXED_CODE = re.compile(r'"code": "([A-Z_]+)"')


def lambda_python() -> str:
    runtime = TEMPLATE["Globals"]["Function"]["Runtime"]
    match = re.fullmatch(r"python(3\.\d+)", runtime)
    assert match, runtime
    return match[1]


def test_every_function_and_the_layer_run_the_globals_runtime() -> None:
    version = lambda_python()
    resources = TEMPLATE["Resources"].values()
    functions = [r for r in resources if r["Type"] == "AWS::Serverless::Function"]
    layers = [r for r in resources if r["Type"] == "AWS::Serverless::LayerVersion"]

    assert functions
    assert layers
    assert {r["Properties"].get("Runtime", f"python{version}") for r in functions} == {f"python{version}"}
    for layer in layers:
        assert layer["Properties"]["CompatibleRuntimes"] == [f"python{version}"]
        assert layer["Metadata"]["BuildMethod"] == f"python{version}"


@pytest.mark.parametrize("package", PACKAGES, ids=lambda path: str(path.relative_to(REPO_ROOT)))
def test_packages_require_the_lambda_python(package: Path) -> None:
    project = tomllib.loads(package.read_text())["project"]

    assert project["requires-python"] == f">={lambda_python()}"


def test_the_type_checker_and_linter_target_the_lambda_python() -> None:
    tools = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["tool"]

    assert tools["mypy"]["python_version"] == lambda_python()
    assert tools["ruff"]["target-version"] == "py" + lambda_python().replace(".", "")


def test_the_docs_name_no_other_python_than_the_lambda_one() -> None:
    stated = {
        f"{page.relative_to(REPO_ROOT)}: {match[0]}"
        # decisions.md may name the versions it rejected; everything else states what is supported.
        for page in [*PROSE, REPO_ROOT / "Makefile", REPO_ROOT / ".ci" / "run"]
        if page.name != "decisions.md"
        for match in _STATED_VERSION.finditer(page.read_text())
        if match[1] != lambda_python()
    }

    assert stated == set()


def test_the_error_docs_give_api_gateways_own_answers_the_statuses_the_template_configures() -> None:
    errors_doc = (REPO_ROOT / "docs" / "errors.md").read_text()
    configured = {
        (response.status_code, code[1])
        for response in gateway_responses(TEMPLATE).values()
        if response.status_code and (code := _FIXED_CODE.search(response.json_template or ""))
    }

    assert configured
    missing = {
        (status, code)
        for status, code in configured
        if not re.search(rf"^\| {status} \|[^\n]*`{code}`", errors_doc, re.MULTILINE)
    }
    assert missing == set()


def test_the_docs_give_an_unknown_path_the_status_api_gateway_answers() -> None:
    status = gateway_responses(TEMPLATE)["MISSING_AUTHENTICATION_TOKEN"].status_code
    # A sentence about paths the API does not have, and the status it names right after.
    claim = re.compile(r"paths?(?: or methods)? the API does not have \((\d{3})")

    claims = {
        f"{page.relative_to(REPO_ROOT)}: {match[1]}"
        for page in PROSE
        for match in claim.finditer(" ".join(page.read_text().split()))
    }

    assert claims
    assert {claim.rsplit(": ", 1)[1] for claim in claims} == {str(status)}
