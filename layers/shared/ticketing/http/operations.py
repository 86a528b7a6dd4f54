"""What a route publishes in the OpenAPI document, declared once next to the handler (docs/writing-routes.md).

    @app.post("/api/bookings/create", summary="Create a PENDING booking", status_code=201)
    @answers(BookingOut, status=201, errors={409: ["SEATS_NOT_HELD"], 404: ["NOT_FOUND"]})
    def create_booking(...) -> Response[str]:
        \"\"\"The operation's description.\"\"\"

The resolver adds what follows from the handler itself: `bearerAuth` and 401 for routes that identify the
caller, 403 for role checks, 400/413/415 for routes with a body, 422 everywhere (the edge checks every
request), 429 and 503. `errors` adds the domain's own answers. `answers` is needed only when the handler
returns something other than its model (a Response built by hand) or a status other than the route's.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, get_args, get_origin, get_type_hints

from aws_lambda_powertools.event_handler.depends import Depends
from aws_lambda_powertools.event_handler.openapi.params import Body
from pydantic import BaseModel

ERROR_SCHEMA_REF = "#/components/schemas/ErrorResponse"
BEARER_AUTH = "bearerAuth"

# Answers every operation can give, whatever it does.
_EVERY_OPERATION: dict[int, tuple[str, ...]] = {
    422: ("VALIDATION_ERROR",),
    429: ("RATE_LIMITED",),
    503: ("SERVICE_UNAVAILABLE",),
}
_WITH_BODY: dict[int, tuple[str, ...]] = {
    400: ("INVALID_JSON",),
    413: ("PAYLOAD_TOO_LARGE",),
    415: ("UNSUPPORTED_MEDIA_TYPE",),
}
_AUTHENTICATED: dict[int, tuple[str, ...]] = {401: ("UNAUTHORIZED", "TOKEN_EXPIRED")}
_ROLE_CHECKED: dict[int, tuple[str, ...]] = {403: ("FORBIDDEN",)}

_STATUS_TEXT = {
    400: "Bad request",
    401: "Not authenticated",
    402: "Payment declined",
    403: "Forbidden",
    404: "Not found",
    409: "Conflict",
    412: "Precondition failed",
    413: "Payload too large",
    415: "Unsupported media type",
    422: "Validation failed",
    429: "Rate limited (Retry-After)",
    503: "Service unavailable",
}


@dataclass(frozen=True)
class Answers:
    model: type[BaseModel] | None
    status: int | None
    errors: Mapping[int, tuple[str, ...]]
    headers: Mapping[str, str] = field(default_factory=dict)
    description: str | None = None


def answers[Handler: Callable[..., Any]](
    model: type[BaseModel] | None = None,
    *,
    status: int | None = None,
    errors: Mapping[int, Iterable[str]] | None = None,
    headers: Mapping[str, str] | None = None,
    description: str | None = None,
) -> Callable[[Handler], Handler]:
    """Declares a handler's success answer (`model`, or None for no body) and the error codes it can give."""
    declared = Answers(
        model=model,
        status=status,
        errors={code: tuple(codes) for code, codes in (errors or {}).items()},
        headers=dict(headers or {}),
        description=description,
    )

    def declare(handler: Handler) -> Handler:
        handler.answers = declared  # type: ignore[attr-defined]
        return handler

    return declare


def _caller_checks(handler: Callable[..., Any]) -> list[Callable[..., Any]]:
    checks = []
    for annotation in get_type_hints(handler, include_extras=True).values():
        if get_origin(annotation) is not Annotated:
            continue
        for metadata in get_args(annotation)[1:]:
            if isinstance(metadata, Depends) and getattr(metadata.dependency, "checks_caller", False):
                checks.append(metadata.dependency)
    return checks


def _takes_body(handler: Callable[..., Any]) -> bool:
    for name, annotation in get_type_hints(handler, include_extras=True).items():
        if name == "return":
            continue
        if get_origin(annotation) is Annotated and any(isinstance(meta, Body) for meta in get_args(annotation)[1:]):
            return True
        candidates = get_args(annotation) or (annotation,)
        if any(inspect.isclass(candidate) and issubclass(candidate, BaseModel) for candidate in candidates):
            return True
    return False


def _merge(*sources: Mapping[int, Iterable[str]]) -> dict[int, list[str]]:
    merged: dict[int, list[str]] = {}
    for source in sources:
        for status, codes in source.items():
            bucket = merged.setdefault(status, [])
            bucket.extend(code for code in codes if code not in bucket)
    return dict(sorted(merged.items()))


def error_response_spec(status: int, codes: list[str]) -> dict[str, Any]:
    """An error answer: the envelope, with `error.code` limited to the codes this operation gives."""
    schema = {
        "allOf": [
            {"$ref": ERROR_SCHEMA_REF},
            {"type": "object", "properties": {"error": {"type": "object", "properties": {"code": {"enum": codes}}}}},
        ]
    }
    text = _STATUS_TEXT.get(status, "Error")
    return {"description": f"{text}: {', '.join(codes)}", "content": {"application/json": {"schema": schema}}}


def openapi_arguments(handler: Callable[..., Any], arguments: Mapping[str, Any]) -> dict[str, Any]:
    """The route decorator's `description`, `security` and `responses` for this handler."""
    declared: Answers | None = getattr(handler, "answers", None)
    checks = _caller_checks(handler)
    required = [check for check in checks if not getattr(check, "caller_optional", False)]
    security: list[dict[str, list[str]]] | None = None
    if required:
        security = [{BEARER_AUTH: []}]
    elif checks:
        security = [{}, {BEARER_AUTH: []}]
    errors = _merge(
        _EVERY_OPERATION,
        _WITH_BODY if _takes_body(handler) else {},
        _AUTHENTICATED if checks else {},
        _ROLE_CHECKED if any(getattr(check, "checks_role", False) for check in checks) else {},
        declared.errors if declared else {},
    )
    responses: dict[int, Any] = {
        status: error_response_spec(status, codes) for status, codes in errors.items() if codes
    }
    responses.update(arguments.get("responses") or {})
    status = (declared.status if declared else None) or arguments.get("status_code") or 200
    success: dict[str, Any] = {"description": (declared.description if declared else None) or "Success"}
    if declared is not None and declared.model is None:
        success["content"] = {}
    elif declared is not None:
        success["content"] = {"application/json": {"model": declared.model}}
    if declared is not None and declared.headers:
        success["headers"] = {
            name: {"description": text, "schema": {"type": "string"}} for name, text in declared.headers.items()
        }
    responses.setdefault(status, success)
    return {
        "description": arguments.get("description") or inspect.getdoc(handler),
        "security": arguments.get("security") or security,
        "responses": dict(sorted(responses.items())),
    }
