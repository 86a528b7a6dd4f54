"""Clients that call the API the way a real client does, for tests and benchmarks.

`InProcessApi` routes a request through the template exactly as the local runner does (proxy event,
Lambda invocation, API Gateway response translation) without a socket; `HttpApi` goes over real HTTP.
Both answer the same `ApiResponse`, so a flow can be written once and run either way.
"""

from __future__ import annotations

import gzip
import json
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from devtools.apigw import (
    RouteMatch,
    build_proxy_event,
    lambda_error_response,
    resolve_route,
    translate_response,
    unrouted_response,
)
from devtools.sam_template import SamApp, load_template
from devtools.server import apply_template_environment, invoke

_NO_BODY = object()


@dataclass
class ApiResponse:
    status: int
    headers: dict[str, str] = field(repr=False)
    body: bytes = field(repr=False)

    def json(self) -> Any:
        """The body as JSON, decompressed first when it was sent gzip-encoded (as any HTTP client would)."""
        if self.header("Content-Encoding") == "gzip":
            return json.loads(gzip.decompress(self.body))
        return json.loads(self.body)

    @property
    def error_code(self) -> str | None:
        try:
            return str(self.json()["error"]["code"])
        except (ValueError, KeyError, TypeError):
            return None

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


def _request_parts(
    json_body: Any, raw_body: bytes | None, headers: dict[str, str] | None, token: str | None
) -> tuple[bytes, dict[str, str]]:
    all_headers = {"Accept": "application/json", **(headers or {})}
    if token:
        all_headers["Authorization"] = f"Bearer {token}"
    if raw_body is not None:
        return raw_body, all_headers
    if json_body is _NO_BODY:
        return b"", all_headers
    all_headers.setdefault("Content-Type", "application/json")
    return json.dumps(json_body).encode("utf-8"), all_headers


def _merge_headers(pairs: list[tuple[str, str]]) -> dict[str, str]:
    merged: dict[str, str] = {}
    for name, value in pairs:
        key = name.lower()
        merged[key] = f"{merged[key]}, {value}" if key in merged else value
    return merged


def _with_merged_headers(response: tuple[int, list[tuple[str, str]], bytes]) -> tuple[int, dict[str, str], bytes]:
    status, headers, body = response
    return status, _merge_headers(headers), body


class _Client:
    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = _NO_BODY,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        token: str | None = None,
        query: dict[str, Any] | None = None,
    ) -> ApiResponse:
        payload, all_headers = _request_parts(json, body, headers, token)
        query_string = urlencode(query or {}, doseq=True)
        return self._send(method.upper(), path, query_string, payload, all_headers)

    def _send(self, method: str, path: str, query: str, body: bytes, headers: dict[str, str]) -> ApiResponse:
        raise NotImplementedError

    def get(self, path: str, **kwargs: Any) -> ApiResponse:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> ApiResponse:
        return self.request("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> ApiResponse:
        return self.request("PUT", path, **kwargs)


class InProcessApi(_Client):
    def __init__(self, template_path: Path) -> None:
        self.app: SamApp = load_template(template_path)
        apply_template_environment(self.app)
        self._functions = {route: function for function in self.app.functions for route in function.api_events}

    def _send(self, method: str, path: str, query: str, body: bytes, headers: dict[str, str]) -> ApiResponse:
        match = resolve_route(self._functions, method, path)
        if not isinstance(match, RouteMatch):
            cors = bool(self.app.cors_preflight_headers)
            return ApiResponse(
                *_with_merged_headers(unrouted_response(self.app.gateway_responses, method, match, cors=cors))
            )
        function = self._functions[match.route]
        event = build_proxy_event(
            method,
            path,
            query,
            list(headers.items()),
            body,
            match.route,
            match.path_parameters,
            self.app.binary_media_types,
            "127.0.0.1",
        )
        result = invoke(function, event, function.timeout)
        translated = translate_response(result, headers.get("Accept"), self.app.binary_media_types)
        if translated is None:
            translated = lambda_error_response(self.app.gateway_responses, event["requestContext"]["requestId"])
        return ApiResponse(*_with_merged_headers(translated))


class HttpApi(_Client):
    def __init__(self, base_url: str, *, timeout: float = 60.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def _send(self, method: str, path: str, query: str, body: bytes, headers: dict[str, str]) -> ApiResponse:
        url = f"{self.base_url}{path}" + (f"?{query}" if query else "")
        request = urllib.request.Request(url, data=body or None, method=method, headers=headers)  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                return ApiResponse(response.status, _merge_headers(list(response.headers.items())), response.read())
        except urllib.error.HTTPError as error:
            return ApiResponse(error.code, _merge_headers(list(error.headers.items())), error.read())
