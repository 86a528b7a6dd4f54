"""Builds the API Gateway REST resolver every function uses, with the error contract of docs/errors.md."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from ticketing.config import get_settings
from ticketing.errors import DomainError
from ticketing.http.caching import EdgePolicy, cache_control, declared_policy, set_cache_control
from ticketing.http.inbound import admitted_event, header
from ticketing.http.operations import openapi_arguments
from ticketing.http.responses import add_default_headers, error_body, error_response
from ticketing.http.security import caller_rejection
from ticketing.http.tags import ApiTag
from ticketing.observability import instrumented, logger

MAX_FIELD_ERRORS = 20
MAX_FIELD_NAME = 100
CORS_ALLOW_HEADERS = [
    "Authorization",
    "Content-Type",
    "Idempotency-Key",
    "If-Match",
    "If-None-Match",
    "X-Admission-Token",
]
CORS_EXPOSE_HEADERS = ["ETag", "Retry-After"]

Handler = TypeVar("Handler", bound=Callable[..., Any])
_ROUTE_SIGNATURE = inspect.signature(APIGatewayRestResolver.route)
LambdaHandler = Callable[[dict[str, Any], LambdaContext], dict[str, Any]]
_ROUTE_PARAMETER = re.compile(r"<\w+>")


class TicketingResolver(APIGatewayRestResolver):
    """The REST resolver plus what must hold for every response, errors included."""

    def __init__(self, *args: Any, tag: ApiTag | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The methods this resolver serves per path pattern, recorded as routes register (for 405's `Allow`).
        self._served_methods: dict[re.Pattern[str], set[str]] = {}
        self._served_routes: set[tuple[str, str]] = set()
        self._tag = tag
        # The edge policies routes declare (ticketing.http.caching), per path pattern and method.
        self._edge_policies: dict[tuple[re.Pattern[str], str], EdgePolicy] = {}
        self._answers_preflight = kwargs.get("cors") is not None

    def route(self, rule: str, method: Any, *args: Any, **kwargs: Any) -> Callable[[Handler], Handler]:
        """Powertools' route, with the OpenAPI answers derived from the handler (ticketing.http.operations)."""
        arguments = _ROUTE_SIGNATURE.bind(self, rule, method, *args, **kwargs).arguments
        arguments.pop("self")
        methods = [method] if isinstance(method, str) else list(method)

        if self._tag is not None and not arguments.get("tags"):
            arguments["tags"] = [self._tag.value]

        def register(handler: Handler) -> Handler:
            pattern = _path_pattern(rule)
            self._served_methods.setdefault(pattern, set()).update(name.upper() for name in methods)
            self._served_routes.update((name.upper(), rule) for name in methods)
            policy = declared_policy(handler)
            if policy is not None:
                self._edge_policies.update({(pattern, name.upper()): policy for name in methods})
            documented = {**arguments, **openapi_arguments(handler, arguments)}
            return super(TicketingResolver, self).route(**documented)(handler)

        return register

    def resolve(self, event: Mapping[str, Any], context: LambdaContext) -> dict[str, Any]:
        # Checked before routing, so a body we refuse is never parsed by a handler (docs/api-errors.md).
        try:
            admitted = admitted_event(event)
        except DomainError as refusal:
            result = self._early_error(event, refusal)
        else:
            result = super().resolve(admitted, context)
        self._apply_cache_policy(event, result)
        add_default_headers(result)
        return result

    def served_routes(self) -> set[tuple[str, str]]:
        """Every (METHOD, rule) this resolver serves, documented or not (`include_in_schema=False`)."""
        return set(self._served_routes)

    def edge_policy(self, method: str, path: str) -> EdgePolicy | None:
        """The policy the route serving `method` on `path` declared with `edge_cached`, if any."""
        for (pattern, served), policy in self._edge_policies.items():
            if served == method.upper() and pattern.match(path):
                return policy
        return None

    def _apply_cache_policy(self, event: Mapping[str, Any], result: dict[str, Any]) -> None:
        method = str(event.get("httpMethod") or "GET")
        value = cache_control(
            self.edge_policy(method, str(event.get("path") or "")),
            method=method,
            authorized=bool(header(event, "authorization")),
            status=int(result.get("statusCode") or 200),
        )
        if value is not None:
            set_cache_control(result, value)

    def allowed_methods(self, path: str) -> list[str]:
        """The methods served for this path (plus OPTIONS when CORS preflights are answered); empty: unknown path.

        Listed like the local runner's own 405 (docs/local-runner.md): sorted, OPTIONS last.
        """
        served: set[str] = set()
        for pattern, methods in self._served_methods.items():
            if pattern.match(path):
                served |= methods
        if not served:
            return []
        return [*sorted(served), *(["OPTIONS"] if self._answers_preflight else [])]

    def _early_error(self, event: Mapping[str, Any], error: DomainError) -> dict[str, Any]:
        headers = {"Content-Type": "application/json"}
        origin = self._cors.allowed_origin(header(event, "origin")) if self._cors is not None else None
        if self._cors is not None and origin is not None:
            headers.update(self._cors.to_dict(origin))
        body = error_body(error.code, error.message, error.details)
        return {"statusCode": error.status, "headers": headers, "body": body, "isBase64Encoded": False}


def create_resolver(tag: ApiTag | None = None) -> TicketingResolver:
    """The function's resolver; `tag` files its operations under their group in the API document."""
    settings = get_settings()
    origins = settings.cors_origins or ["*"]
    cors = CORSConfig(
        allow_origin=origins[0],
        extra_origins=origins[1:],
        allow_headers=CORS_ALLOW_HEADERS,
        expose_headers=CORS_EXPOSE_HEADERS,
        max_age=600,
    )
    app = TicketingResolver(enable_validation=True, cors=cors, tag=tag)
    _register_error_handlers(app)
    return app


def _path_pattern(rule: str) -> re.Pattern[str]:
    """A route rule (`/api/venues/<venue_id>`) as the paths it serves; a parameter is one non-empty segment."""
    parts = _ROUTE_PARAMETER.split(rule)
    return re.compile("^" + "[^/]+".join(re.escape(part) for part in parts) + "/*$")


def lambda_entrypoint(app: TicketingResolver) -> LambdaHandler:
    """The Lambda handler of a function: logs with the API request id as correlation id, traces, resolves."""

    def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        return app.resolve(event, context)

    return instrumented(lambda_handler, correlation_id_path=correlation_paths.API_GATEWAY_REST)


def _field_name(location: tuple[Any, ...]) -> str:
    parts = [part for part in location if part not in ("body", "query", "path", "header")]
    name = ""
    for part in parts:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else str(part))
    name = name or str(location[0] if location else "body")
    # A field name can come from the client (an unknown key): keep the answer's size independent of it.
    return name if len(name) <= MAX_FIELD_NAME else name[: MAX_FIELD_NAME - 1] + "…"


def _field_message(error: Mapping[str, Any]) -> str:
    if error.get("type") == "extra_forbidden":
        return "Unknown field."
    if error.get("type") == "missing":
        return "This field is required."
    # pydantic prefixes messages raised by our validators with "Value error, ".
    return str(error.get("msg", "Invalid value.")).removeprefix("Value error, ")


def _field_details(problems: list[Any]) -> dict[str, Any]:
    """At most MAX_FIELD_ERRORS fields, so the answer never grows with the input."""
    fields = [
        {"field": _field_name(tuple(problem.get("loc", ()))), "message": _field_message(problem)}
        for problem in problems[:MAX_FIELD_ERRORS]
    ]
    details: dict[str, Any] = {"fields": fields}
    if len(problems) > MAX_FIELD_ERRORS:
        details["omittedFields"] = len(problems) - MAX_FIELD_ERRORS
    return details


def _register_error_handlers(app: TicketingResolver) -> None:
    @app.exception_handler(DomainError)
    def domain_error(error: DomainError) -> Response[str]:
        return error_response(error.status, error.code, error.message, error.details, error.headers)

    @app.exception_handler(RequestValidationError)
    def validation_error(error: RequestValidationError) -> Response[str]:
        route = app.context.get("_route")
        rejection = caller_rejection(route.func, app.request) if route is not None else None
        if rejection is not None:
            return domain_error(rejection)
        problems = list(error.errors())
        if any(problem.get("type") == "json_invalid" for problem in problems):
            return error_response(400, "INVALID_JSON", "The request body is not valid JSON.")
        return error_response(422, "VALIDATION_ERROR", "The request is not valid.", _field_details(problems))

    @app.exception_handler(NotFoundError)
    def route_not_found(error: NotFoundError) -> Response[str]:
        # API Gateway's ANY event of a path sends every method the path lacks here (docs/errors.md): the path
        # is ours, so the answer is 405 with the methods it has. No handler ran, so no auth check did either.
        # (A served method here means a NotFoundError from inside a handler: that stays 404.)
        method = app.current_event.http_method.upper()
        allowed = app.allowed_methods(app.current_event.path)
        if allowed and method not in allowed:
            message = f"{method} is not allowed here; allowed: {', '.join(allowed)}"
            return error_response(405, "METHOD_NOT_ALLOWED", message, headers={"Allow": ", ".join(allowed)})
        return error_response(404, "NOT_FOUND", "No such resource.")

    @app.exception_handler(Exception)
    def unexpected_error(error: Exception) -> Response[str]:
        request_id = app.current_event.request_context.request_id
        logger.exception("unhandled error", extra={"requestId": request_id})
        return error_response(500, "INTERNAL", "Something went wrong on our side.", {"requestId": request_id})
