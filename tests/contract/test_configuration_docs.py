"""docs/configuration.md lists every environment variable the code reads or the template sets, and no other.

Read means: a field of the settings model (`ticketing.config.Settings`), an `os.environ`/`os.getenv` access in
the layer, the functions, the dev tools or the benchmarks, a Powertools variable named there, or a variable
`template.yaml` gives a function.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from devtools.sam_template import read_template
from ticketing.config import Settings

REPO_ROOT = Path(__file__).resolve().parents[2]
CONFIGURATION_DOC = REPO_ROOT / "docs" / "configuration.md"
SOURCE_ROOTS = ("layers/shared/ticketing", "functions", "devtools/devtools", "bench")

_ENVIRONMENT_READ = re.compile(
    r"""(?:environ(?:\.get|\.setdefault|\.pop)?\s*[(\[]\s*|getenv\(\s*)["']([A-Z][A-Z0-9_]*)["']"""
    r"""|["']([A-Z][A-Z0-9_]*)["']\s+(?:not\s+)?in\s+os\.environ"""
)
_POWERTOOLS_NAME = re.compile(r"\bPOWERTOOLS_[A-Z0-9_]+\b")
_DOCUMENTED_ROW = re.compile(r"^\|\s*`([A-Z][A-Z0-9_]*)`\s*\|", re.MULTILINE)


def documented_names() -> set[str]:
    return set(_DOCUMENTED_ROW.findall(CONFIGURATION_DOC.read_text(encoding="utf-8")))


def settings_names() -> set[str]:
    return {field.alias for field in Settings.model_fields.values() if field.alias}


def names_in_code() -> dict[str, str]:
    """Variable name -> the first file that reads (or sets) it."""
    found: dict[str, str] = {}
    for root in SOURCE_ROOTS:
        for path in sorted((REPO_ROOT / root).rglob("*.py")):
            text = path.read_text(encoding="utf-8")
            names = {name for match in _ENVIRONMENT_READ.findall(text) for name in match if name}
            for name in names | set(_POWERTOOLS_NAME.findall(text)):
                found.setdefault(name, str(path.relative_to(REPO_ROOT)))
    return found


def names_in_template() -> set[str]:
    template: dict[str, Any] = read_template(REPO_ROOT / "template.yaml")
    environments = [template.get("Globals", {}).get("Function", {}).get("Environment", {})]
    environments += [
        resource.get("Properties", {}).get("Environment", {})
        for resource in template["Resources"].values()
        if resource.get("Type") == "AWS::Serverless::Function"
    ]
    return {name for environment in environments for name in (environment or {}).get("Variables", {})}


def test_every_setting_is_documented() -> None:
    assert settings_names() - documented_names() == set(), "add a row to docs/configuration.md"


def test_every_variable_the_code_reads_is_documented() -> None:
    missing = {name: path for name, path in names_in_code().items() if name not in documented_names()}

    assert missing == {}, "add a row to docs/configuration.md"


def test_every_variable_the_template_sets_is_documented() -> None:
    assert names_in_template() - documented_names() == set(), "add a row to docs/configuration.md"


def test_every_documented_variable_is_still_used() -> None:
    used = settings_names() | set(names_in_code()) | names_in_template()

    assert documented_names() - used == set(), "remove the row from docs/configuration.md, or the code lost a read"


def test_the_scanners_find_what_they_look_for() -> None:
    in_code = names_in_code()

    assert {"PORT", "LOCAL_SCHEDULE_SECONDS", "DEMO_PASSWORD", "DATABASE_URL"} <= set(in_code)
    assert "POWERTOOLS_SERVICE_NAME" in names_in_template()
    assert {"HOLD_TTL_SECONDS", "ACCESS_TOKEN_TTL_SECONDS"} <= settings_names()
    assert {"HOLD_TTL_SECONDS", "PORT", "POWERTOOLS_LOG_LEVEL"} <= documented_names()
