"""docs/errors.md lists every error code the API can answer.

Codes are found where the code names them: `code="..."` arguments, `code = "..."` class attributes and
parameter defaults, module constants passed as `code=`, the codes passed to
`error_response`/`_early_error`/`_invalid`, `(code, message)` tables such as the database's unique-constraint
map, and the gateway responses of template.yaml.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
SOURCE_ROOTS = ("layers/shared/ticketing", "functions")
ERRORS_DOC = REPO_ROOT / "docs" / "errors.md"
CODE_CALLS = {"error_response", "_early_error", "_invalid"}
_CODE = re.compile(r"^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*$")


def _code(node: ast.AST | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and _CODE.match(node.value):
        return node.value
    return None


def _called_name(call: ast.Call) -> str:
    function = call.func
    return function.attr if isinstance(function, ast.Attribute) else getattr(function, "id", "")


def codes_in(tree: ast.AST) -> set[str]:
    # `code=WRONG_EVENT` names a module constant: read its value.
    constants = {
        target.id: node.value
        for node in getattr(tree, "body", [])
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    candidates: list[ast.AST | None] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            candidates += [
                constants.get(keyword.value.id) if isinstance(keyword.value, ast.Name) else keyword.value
                for keyword in node.keywords
                if keyword.arg == "code"
            ]
            if _called_name(node) in CODE_CALLS:
                candidates += node.args
        elif isinstance(node, ast.Assign) and any(getattr(target, "id", None) == "code" for target in node.targets):
            candidates.append(node.value)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            arguments = [*node.args.args, *node.args.kwonlyargs]
            defaults = [*[None] * (len(node.args.args) - len(node.args.defaults)), *node.args.defaults]
            defaults += node.args.kw_defaults
            candidates += [
                default for argument, default in zip(arguments, defaults, strict=True) if argument.arg == "code"
            ]
        elif isinstance(node, ast.Dict):
            candidates += [value.elts[0] for value in node.values if isinstance(value, ast.Tuple) and value.elts]
    return {code for candidate in candidates if (code := _code(candidate))}


def codes_in_code() -> dict[str, str]:
    """Error code -> the first file that can answer it."""
    found: dict[str, str] = {}
    for root in SOURCE_ROOTS:
        for path in sorted((REPO_ROOT / root).rglob("*.py")):
            for code in codes_in(ast.parse(path.read_text(encoding="utf-8"))):
                found.setdefault(code, str(path.relative_to(REPO_ROOT)))
    template = (REPO_ROOT / "template.yaml").read_text(encoding="utf-8")
    for code in re.findall(r'"code":\s*"([A-Z][A-Z0-9_]*)"', template):
        found.setdefault(code, "template.yaml")
    return found


def documented_codes() -> set[str]:
    return set(
        re.findall(r"^\|\s*\d{3}\s*\|\s*`([A-Z][A-Z0-9_]*)`", ERRORS_DOC.read_text(encoding="utf-8"), re.MULTILINE)
    )


def test_every_error_code_the_code_can_answer_is_documented() -> None:
    missing = {code: path for code, path in codes_in_code().items() if code not in documented_codes()}

    assert missing == {}, "add a row to the table in docs/errors.md"


def test_the_scanner_finds_codes_of_every_kind() -> None:
    found = codes_in_code()

    assert {
        "SEATS_LOCKED",  # class attribute
        "SEATS_UNAVAILABLE",  # code= argument
        "EMAIL_TAKEN",  # (code, message) table
        "INVALID_JSON",  # error_response argument
        "UNSUPPORTED_MEDIA_TYPE",  # _early_error argument
        "COUPON_INVALID",  # parameter default
        "COUPON_NOT_ACTIVE",  # _invalid argument
        "RATE_LIMITED",  # gateway response
    } <= set(found)
    assert "BOOKING_CONFIRMED" not in found, "a notification type is not an error code"


def test_every_documented_code_is_still_answered() -> None:
    assert documented_codes() - set(codes_in_code()) == set(), "remove the row from docs/errors.md"
