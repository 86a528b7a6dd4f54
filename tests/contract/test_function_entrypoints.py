"""Every function's `lambda_handler` goes through `instrumented()`: JSON logs with the request context, the
X-Ray segment where tracing is on, metrics flushed and the SnapStart restore hook, the same for all of them.

API functions get it from `lambda_entrypoint(app)` (ticketing.http.resolver), the others call it directly;
a handler that applies Powertools' decorators by hand would miss one of them (the expiry handler did: no
tracer).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

FUNCTIONS = sorted((Path(__file__).resolve().parents[2] / "functions").glob("*/app.py"))
WRAPPERS = {"instrumented", "lambda_entrypoint"}
BY_HAND = {"inject_lambda_context", "log_metrics", "capture_lambda_handler"}


def _entrypoint(tree: ast.Module) -> ast.expr | None:
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == "lambda_handler" for target in node.targets
        ):
            return node.value
    return None


@pytest.mark.parametrize("app", FUNCTIONS, ids=lambda path: path.parent.name)
def test_the_lambda_handler_is_wrapped_by_instrumented(app: Path) -> None:
    tree = ast.parse(app.read_text())

    entrypoint = _entrypoint(tree)

    assert isinstance(entrypoint, ast.Call), "lambda_handler = instrumented(...) or lambda_entrypoint(app)"
    assert isinstance(entrypoint.func, ast.Name)
    assert entrypoint.func.id in WRAPPERS
    decorators = {
        ast.unparse(decorator)
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef)
        for decorator in node.decorator_list
    }
    assert not {d for d in decorators if any(name in d for name in BY_HAND)}
