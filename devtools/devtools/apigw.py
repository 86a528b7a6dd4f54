"""API Gateway REST API behaviour (proxy integration, payload v1) as pure functions."""

from __future__ import annotations

import base64
import binascii
import json
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from fnmatch import fnmatchcase
from typing import Any
from urllib.parse import parse_qsl, unquote

from devtools.lambda_context import LOCAL_ACCOUNT_ID
from devtools.sam_template import ApiRoute, GatewayResponse

STAGE = "local"
LOCAL_API_ID = "localapi01"

Headers = list[tuple[str, str]]

_LITERAL, _PARAMETER, _GREEDY = 0, 1, 2


@dataclass(frozen=True)
class RouteMatch:
    route: ApiRoute
    path_parameters: dict[str, str]


@dataclass(frozen=True)
class MethodNotAllowed:
    """The path is a resource of the API, but not with this method."""

    allowed: tuple[str, ...]


def match_route(routes: Iterable[ApiRoute], method: str, raw_path: str) -> RouteMatch | None:
    """Pick the route API Gateway would invoke, or None (no such path, or not with this method)."""
    resolved = resolve_route(routes, method, raw_path)
    return resolved if isinstance(resolved, RouteMatch) else None


def resolve_route(routes: Iterable[ApiRoute], method: str, raw_path: str) -> RouteMatch | MethodNotAllowed | None:
    """The route for this request; MethodNotAllowed (with the methods the path has) or None (no such path).

    Like API Gateway, resources are tried from the most specific (literal segments beat ``{param}``, which
    beats ``{proxy+}``) and the first one with this method (or ``ANY``) serves: API Gateway resolves the
    (resource, method) pair, so a method the literal ``/items/mine`` lacks is served by ``/items/{id}`` when
    that one has it, and a greedy ``ANY /{proxy+}`` catches what nothing else serves.
    """
    segments = _split_path(raw_path)
    candidates: dict[str, tuple[tuple[int, ...], dict[str, str]]] = {}
    all_routes = list(routes)
    for route in all_routes:
        if route.path not in candidates:
            matched = _match_segments(_split_path(route.path), segments)
            if matched is not None:
                candidates[route.path] = matched
    if not candidates:
        return None
    allowed: set[str] = set()
    for path in sorted(candidates, key=lambda path: candidates[path][0]):
        methods = {route.method: route for route in all_routes if route.path == path}
        chosen = methods.get(method.upper()) or methods.get("ANY")
        if chosen is not None:
            return RouteMatch(chosen, candidates[path][1])
        allowed.update(methods)
    return MethodNotAllowed(tuple(sorted(allowed)))


def _split_path(path: str) -> list[str]:
    return [segment for segment in path.split("/") if segment]


def _match_segments(template: list[str], segments: list[str]) -> tuple[tuple[int, ...], dict[str, str]] | None:
    """Return (specificity rank, path parameters) when the path fits the template."""
    ranks: list[int] = []
    parameters: dict[str, str] = {}
    for index, part in enumerate(template):
        if part.startswith("{") and part.endswith("+}"):
            remaining = segments[index:]
            if index != len(template) - 1 or not remaining:
                return None
            parameters[part[1:-2]] = unquote("/".join(remaining))
            ranks.append(_GREEDY)
            return tuple(ranks), parameters
        if index >= len(segments):
            return None
        if part.startswith("{") and part.endswith("}"):
            parameters[part[1:-1]] = unquote(segments[index])
            ranks.append(_PARAMETER)
        elif part == segments[index]:
            ranks.append(_LITERAL)
        else:
            return None
    if len(template) != len(segments):
        return None
    return tuple(ranks), parameters


def media_type_matches(media_type: str | None, binary_media_types: Sequence[str]) -> bool:
    """True when the media type (parameters ignored) matches a configured pattern."""
    if not media_type:
        return False
    essence = media_type.split(";", 1)[0].strip().lower()
    return any(fnmatchcase(essence, pattern.lower()) for pattern in binary_media_types)


def build_proxy_event(
    method: str,
    raw_path: str,
    query_string: str,
    headers: Headers,
    body: bytes,
    route: ApiRoute,
    path_params: dict[str, str],
    binary_media_types: Sequence[str],
    source_ip: str,
) -> dict[str, Any]:
    single_headers: dict[str, str] = {}
    multi_headers: dict[str, list[str]] = {}
    for name, value in headers:
        single_headers[name] = value
        multi_headers.setdefault(name, []).append(value)
    single_query: dict[str, str] = {}
    multi_query: dict[str, list[str]] = {}
    for name, value in parse_qsl(query_string, keep_blank_values=True):
        single_query[name] = value
        multi_query.setdefault(name, []).append(value)

    lower_headers = {name.lower(): value for name, value in single_headers.items()}
    is_binary = media_type_matches(lower_headers.get("content-type"), binary_media_types)
    event_body: str | None = None
    if body:
        event_body = base64.b64encode(body).decode("ascii") if is_binary else body.decode("utf-8", errors="replace")
    path = unquote(raw_path)
    now = datetime.now(UTC)
    request_id = str(uuid.uuid4())
    return {
        "resource": route.path,
        "path": path,
        "httpMethod": method,
        "headers": single_headers or None,
        "multiValueHeaders": multi_headers or None,
        "queryStringParameters": single_query or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": path_params or None,
        "stageVariables": None,
        "requestContext": {
            "resourceId": "local",
            "resourcePath": route.path,
            "httpMethod": method,
            "path": f"/{STAGE}{path}",
            "stage": STAGE,
            "requestId": request_id,
            "extendedRequestId": base64.b64encode(uuid.uuid4().bytes[:6]).decode("ascii"),
            "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "requestTimeEpoch": int(now.timestamp() * 1000),
            "identity": {
                "sourceIp": source_ip,
                "userAgent": lower_headers.get("user-agent"),
                "accountId": None,
                "caller": None,
                "user": None,
                "userArn": None,
                "cognitoIdentityId": None,
                "cognitoIdentityPoolId": None,
                "cognitoAuthenticationType": None,
                "cognitoAuthenticationProvider": None,
            },
            "protocol": "HTTP/1.1",
            "accountId": LOCAL_ACCOUNT_ID,
            "apiId": LOCAL_API_ID,
            "domainName": lower_headers.get("host", "localhost"),
            "domainPrefix": LOCAL_API_ID,
        },
        "body": event_body,
        "isBase64Encoded": is_binary and event_body is not None,
    }


# API Gateway's own answers, by gateway response type: status and `$context.error.message`.
GATEWAY_RESPONSE_DEFAULTS = {
    "MISSING_AUTHENTICATION_TOKEN": (403, "Missing Authentication Token"),
    "REQUEST_TOO_LARGE": (413, "Request Too Long"),
    "INTEGRATION_TIMEOUT": (504, "Endpoint request timed out"),
    "INTEGRATION_FAILURE": (504, "Internal server error"),
    "BAD_REQUEST_BODY": (400, "Bad Request"),
    "THROTTLED": (429, "Too Many Requests"),
}
_CONTEXT_VARIABLE = re.compile(r"\$context\.([A-Za-z][A-Za-z0-9_.]*[A-Za-z0-9_])")


def gateway_response(
    responses: Mapping[str, GatewayResponse],
    response_type: str,
    *,
    status: int | None = None,
    message: str | None = None,
    request_id: str = "",
    extra_headers: Headers | None = None,
) -> tuple[int, Headers, bytes]:
    """What API Gateway answers itself for `response_type`, customised by the template's `GatewayResponses`.

    A type the template does not customise falls back to DEFAULT_4XX / DEFAULT_5XX, then to API Gateway's
    built-in `{"message": ...}`. The `application/json` template's `$context` variables are filled in.
    """
    default_status, default_message = GATEWAY_RESPONSE_DEFAULTS.get(response_type, (500, "Internal server error"))
    message = message or default_message
    status = status or default_status
    configured = responses.get(response_type) or responses.get("DEFAULT_4XX" if status < 500 else "DEFAULT_5XX")
    headers: Headers = [("Content-Type", "application/json")]
    body = json.dumps({"message": message})
    if configured is not None:
        status = configured.status_code if responses.get(response_type) and configured.status_code else status
        headers.extend(configured.headers.items())
        if configured.json_template is not None:
            variables = {
                "error.responseType": response_type,
                "error.message": message,
                "error.messageString": json.dumps(message),
                "error.validationErrorString": "",
                "requestId": request_id,
                "extendedRequestId": request_id,
            }
            body = _CONTEXT_VARIABLE.sub(lambda found: variables.get(found[1], ""), configured.json_template)
    headers.extend(extra_headers or [])
    return status, headers, body.encode("utf-8")


def unrouted_response(
    responses: Mapping[str, GatewayResponse], method: str, not_allowed: MethodNotAllowed | None, *, cors: bool
) -> tuple[int, Headers, bytes]:
    """No route for the request: 405 with `Allow` when the path exists, else the unknown-path response."""
    if not_allowed is None:
        return gateway_response(responses, "MISSING_AUTHENTICATION_TOKEN")
    allowed = [*not_allowed.allowed, *(["OPTIONS"] if cors else [])]
    return gateway_response(
        responses,
        "METHOD_NOT_ALLOWED",
        status=405,
        message=f"{method} is not allowed here; allowed: {', '.join(allowed)}",
        extra_headers=[("Allow", ", ".join(allowed))],
    )


def lambda_error_response(responses: Mapping[str, GatewayResponse], request_id: str) -> tuple[int, Headers, bytes]:
    """A Lambda that raised, died, or answered something API Gateway cannot read: 502 via DEFAULT_5XX."""
    return gateway_response(
        responses, "DEFAULT_5XX", status=502, message="Internal server error", request_id=request_id
    )


def translate_response(
    result: Any, accept_header: str | None, binary_media_types: Sequence[str]
) -> tuple[int, Headers, bytes] | None:
    """Turn a Lambda proxy result into (status, headers, body) like API Gateway; None when it cannot (502)."""
    if not isinstance(result, dict):
        return None
    status = result.get("statusCode")
    body = result.get("body")
    single_headers = result.get("headers") or {}
    multi_headers = result.get("multiValueHeaders") or {}
    if (
        not isinstance(status, int)
        or isinstance(status, bool)
        or not 100 <= status <= 599
        or not isinstance(body, (str, type(None)))
        or not isinstance(single_headers, dict)
        or not isinstance(multi_headers, dict)
    ):
        return None

    # API Gateway keeps multiValueHeaders' values when a header is given both ways.
    multi_names = {str(name).lower() for name in multi_headers}
    headers: Headers = [
        (str(name), str(value)) for name, value in single_headers.items() if str(name).lower() not in multi_names
    ]
    for name, values in multi_headers.items():
        headers.extend((str(name), str(value)) for value in (values or []))
    content_type = next((value for name, value in headers if name.lower() == "content-type"), None)
    if content_type is None:
        headers.append(("Content-Type", "application/json"))

    payload = (body or "").encode("utf-8")
    wants_binary = media_type_matches(_first_accepted_type(accept_header), binary_media_types) or media_type_matches(
        content_type, binary_media_types
    )
    if result.get("isBase64Encoded") is True and wants_binary:
        try:
            payload = base64.b64decode(payload, validate=True)
        except binascii.Error:
            return None
    return status, headers, payload


def _first_accepted_type(accept_header: str | None) -> str | None:
    # API Gateway only honours the first media type listed in Accept.
    return accept_header.split(",", 1)[0] if accept_header else None
