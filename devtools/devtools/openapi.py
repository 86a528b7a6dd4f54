"""OpenAPI document of the whole API, merged from every function's resolver (`make openapi`)."""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path
from typing import Any

from aws_lambda_powertools.event_handler.openapi.merge import OpenAPIMerge
from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer

from devtools.lambda_loader import load_module
from devtools.sam_template import FunctionSpec, load_template
from ticketing.http.tags import openapi_tags

REPO_ROOT = Path(__file__).resolve().parents[2]
API_DESCRIPTION = (
    "Sells reserved seats for concerts, theatres and stadiums, each seat exactly once. JSON in and out, camelCase"
    ' fields, errors as `{"error": {"code", "message", "details"}}` (docs/api-errors.md). Authorize'
    " with an access token from /api/auth/login to try protected operations."
)
SECURITY_SCHEMES: dict[str, Any] = {"bearerAuth": HTTPBearer(bearerFormat="JWT")}
_HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options"}


def resolver_schema(function: FunctionSpec) -> dict[str, Any]:
    schema: dict[str, Any] = (
        load_module(function)
        .app.get_openapi_schema(security_schemes=SECURITY_SCHEMES)
        .model_dump(mode="json", by_alias=True, exclude_none=True)
    )
    return schema


def normalized_path(path: str) -> str:
    """`/api/venues/{venue_id}` and `/api/venues/{id}` name the same route."""
    return re.sub(r"\{[^}]+\}", "{}", path)


def resolver_routes(function: FunctionSpec) -> set[tuple[str, str]]:
    """Every route the function's resolver serves, those left out of the document included."""
    served: set[tuple[str, str]] = load_module(function).app.served_routes()
    return {(method, normalized_path(re.sub(r"<(\w+)>", r"{\1}", rule))) for method, rule in served}


def build_openapi(template_path: Path = REPO_ROOT / "template.yaml") -> dict[str, Any]:
    merge = OpenAPIMerge(
        title="Ticket booking API",
        version="1.0.0",
        description=API_DESCRIPTION,
        security_schemes=SECURITY_SCHEMES,
        tags=openapi_tags(),  # type: ignore[arg-type]
        on_conflict="error",
    )
    for function in load_template(template_path).functions:
        if function.api_events:
            merge.add_schema(resolver_schema(function))
    schema: dict[str, Any] = json.loads(merge.get_openapi_json_schema())
    _describe_errors(schema)
    _share_repeated_error_answers(schema)
    return schema


def _describe_errors(schema: dict[str, Any]) -> None:
    """Puts our error envelope (ticketing.http.responses) where Powertools keeps its own validation shapes.

    Each operation's error answers refer to it (ticketing.http.operations lists them per route).
    """
    from ticketing.http.responses import ErrorResponse

    error_schema = ErrorResponse.model_json_schema(ref_template="#/components/schemas/{model}")
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.update(error_schema.pop("$defs", {}))
    components["ErrorResponse"] = error_schema
    for name in ("HTTPValidationError", "ValidationError", "ResponseValidationError"):
        components.pop(name, None)


def _share_repeated_error_answers(schema: dict[str, Any]) -> None:
    """Error answers given by several operations (same status, same codes) become components/responses."""
    seen: dict[str, int] = {}
    for operations in schema.get("paths", {}).values():
        for method, operation in operations.items():
            if method in _HTTP_METHODS:
                for status, answer in operation.get("responses", {}).items():
                    if status.startswith("4") or status.startswith("5"):
                        key = json.dumps(answer, sort_keys=True)
                        seen[key] = seen.get(key, 0) + 1
    shared: dict[str, str] = {}
    components = schema.setdefault("components", {}).setdefault("responses", {})
    for operations in schema.get("paths", {}).values():
        for method, operation in operations.items():
            if method not in _HTTP_METHODS:
                continue
            for status, answer in list(operation.get("responses", {}).items()):
                key = json.dumps(answer, sort_keys=True)
                if seen.get(key, 0) < 2:
                    continue
                if key not in shared:
                    codes = _error_codes(answer)
                    shared[key] = f"Error{status}" + "".join(f"_{code}" for code in codes)
                    components[shared[key]] = answer
                operation["responses"][status] = {"$ref": f"#/components/responses/{shared[key]}"}


def _error_codes(answer: dict[str, Any]) -> list[str]:
    schema = answer.get("content", {}).get("application/json", {}).get("schema", {})
    for part in schema.get("allOf", []):
        codes = part.get("properties", {}).get("error", {}).get("properties", {}).get("code", {}).get("enum")
        if codes:
            return list(codes)
    return []


# The committed document, and the copy DocsFunction ships and serves at /api/openapi.json.
DOCUMENT_COPIES = (REPO_ROOT / "docs" / "openapi.json", REPO_ROOT / "functions" / "docs" / "openapi.json")


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def main() -> None:
    """Prints the document; with --write, updates every committed copy (`make openapi`)."""
    # Importing a handler validates its configuration; generating the document opens no connection.
    os.environ.setdefault("DATABASE_URL", "postgresql://openapi@localhost/unused")
    text = render(build_openapi())
    if "--write" not in sys.argv[1:]:
        print(text, end="")
        return
    for copy in DOCUMENT_COPIES:
        copy.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
