"""The error body of docs/errors.md and the headers every response carries."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from pydantic import BaseModel, Field

SECURITY_HEADERS: dict[str, str] = {
    "Strict-Transport-Security": "max-age=63072000; includeSubDomains; preload",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "X-DNS-Prefetch-Control": "off",
    "X-Download-Options": "noopen",
    "X-Permitted-Cross-Domain-Policies": "none",
    "X-XSS-Protection": "0",
}


class ErrorDetail(BaseModel):
    code: str = Field(examples=["SEATS_UNAVAILABLE"])
    message: str = Field(description="A human sentence.")
    details: dict[str, Any] = Field(default_factory=dict, examples=[{"seatIds": ["…"]}])


class ErrorResponse(BaseModel):
    """Every error answer (docs/errors.md): never a stack trace; a 500 carries `details.requestId`."""

    error: ErrorDetail


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> str:
    return ErrorResponse(error=ErrorDetail(code=code, message=message, details=details or {})).model_dump_json()


def error_response(
    status: int, code: str, message: str, details: dict[str, Any] | None = None, headers: dict[str, str] | None = None
) -> Response[str]:
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=error_body(code, message, details),
        headers=headers,
    )


def add_default_headers(result: dict[str, Any]) -> None:
    """Adds the security headers, and `no-store` unless the route chose its own caching, to a proxy result."""
    single: dict[str, str] = result.setdefault("headers", None) or {}
    multi: dict[str, list[str]] = result.get("multiValueHeaders") or {}
    present = {name.lower() for name in [*single, *multi]}
    defaults = {**SECURITY_HEADERS, "Cache-Control": "no-store"}
    for name, value in defaults.items():
        if name.lower() in present:
            continue
        if multi:
            multi[name] = [value]
        else:
            single[name] = value
    result["headers"] = single or None
    if multi:
        result["multiValueHeaders"] = multi
