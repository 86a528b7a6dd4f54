"""The published OpenAPI document says what each operation answers (conventions: docs/writing-routes.md)."""

from __future__ import annotations

from typing import Any

import pytest

from devtools.openapi import build_openapi

_METHODS = {"get", "put", "post", "delete", "patch"}
_PUBLIC = {
    ("post", "/api/auth/register"),
    ("post", "/api/auth/login"),
    ("post", "/api/auth/refresh-token"),
    ("post", "/api/auth/logout"),
    ("get", "/api/health"),
    # The payment provider's signature authenticates its webhooks (docs/payments.md).
    ("post", "/api/payments/webhooks/{provider}"),
    ("get", "/api/venues"),
    ("get", "/api/venues/{venue_id}"),
    ("get", "/api/events/{event_id}/reviews"),
    ("get", "/api/openapi.json"),
    ("get", "/api/docs"),
    ("get", "/api/tickets/public-key"),
    ("get", "/api/docs/swagger-ui.css"),
    ("get", "/api/docs/swagger-ui-bundle.js"),
    ("get", "/api/docs/swagger-initializer.js"),
}


@pytest.fixture(scope="module")
def document(database_url: str) -> dict[str, Any]:
    return build_openapi()


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if method in _METHODS
    ]


def _body_schema(schemas: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    """The request body's model schema (an optional body is `anyOf: [model, null]`)."""
    schema = body["content"]["application/json"]["schema"]
    for candidate in [schema, *schema.get("anyOf", [])]:
        if "$ref" in candidate:
            found: dict[str, Any] = schemas[candidate["$ref"].rsplit("/", 1)[-1]]
            return found
    return dict(schema)


def test_every_operation_has_a_summary_and_a_description(document: dict[str, Any]) -> None:
    missing = [f"{m} {p}" for m, p, op in _operations(document) if not op.get("summary") or not op.get("description")]

    assert missing == []


def test_every_success_answer_has_a_real_model(document: dict[str, Any]) -> None:
    bare = []
    for method, path, operation in _operations(document):
        for status, answer in operation["responses"].items():
            if not status.startswith("2"):
                continue
            for media_type, content in answer.get("content", {}).items():
                schema = content.get("schema", {})
                if media_type == "application/json" and schema.get("type") in ("string", None) and "$ref" not in schema:
                    bare.append(f"{method} {path} {status}")

    assert bare == []


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("post", "/api/auth/register", "201"),
        ("post", "/api/auth/logout", "204"),
        ("put", "/api/users/change-password", "204"),
        ("post", "/api/users/notifications/{notification_id}/read", "204"),
        ("post", "/api/bookings/create", "201"),
        ("post", "/api/venues", "201"),
    ],
)
def test_created_and_no_content_answers_are_published_as_such(
    document: dict[str, Any], method: str, path: str, status: str
) -> None:
    responses = document["paths"][path][method]["responses"]

    assert status in responses
    assert "200" not in responses


def test_bearer_auth_is_on_every_operation_that_needs_it_and_only_there(document: dict[str, Any]) -> None:
    wrong = []
    for method, path, operation in _operations(document):
        needs = (method, path) not in _PUBLIC
        has = {"bearerAuth": []} in operation.get("security", [])
        if needs != has:
            wrong.append(f"{method} {path}")

    assert wrong == []


def test_protected_operations_publish_401_with_their_codes(document: dict[str, Any]) -> None:
    operation = document["paths"]["/api/bookings/hold-seats"]["post"]

    answer = operation["responses"]["401"]
    if "$ref" in answer:
        answer = document["components"]["responses"][answer["$ref"].rsplit("/", 1)[-1]]
    codes = answer["content"]["application/json"]["schema"]["allOf"][1]
    assert codes["properties"]["error"]["properties"]["code"]["enum"] == ["UNAUTHORIZED", "TOKEN_EXPIRED"]
    assert {"400", "409", "413", "415", "422"} <= set(operation["responses"])


def test_every_request_body_has_an_example(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    missing = []
    for method, path, operation in _operations(document):
        body = operation.get("requestBody")
        if body is None:
            continue
        target = _body_schema(schemas, body)
        if not target.get("examples"):
            missing.append(f"{method} {path}")

    assert missing == []


def test_every_integer_in_a_request_is_bounded(document: dict[str, Any]) -> None:
    unbounded = []

    schemas = document["components"]["schemas"]

    def visit(schema: Any, where: str) -> None:
        if isinstance(schema, dict):
            if "$ref" in schema:
                visit(schemas[schema["$ref"].rsplit("/", 1)[-1]], f"{where}->{schema['$ref']}")
            if schema.get("type") == "integer" and ("maximum" not in schema or "minimum" not in schema):
                unbounded.append(where)
            for key, value in schema.items():
                visit(value, f"{where}.{key}")
        elif isinstance(schema, list):
            for index, value in enumerate(schema):
                visit(value, f"{where}[{index}]")

    for method, path, operation in _operations(document):
        for parameter in operation.get("parameters", []):
            visit(parameter["schema"], f"{method} {path} {parameter['name']}")
        body = operation.get("requestBody")
        if body is not None:
            visit(_body_schema(schemas, body), f"{method} {path} body")

    assert unbounded == []
