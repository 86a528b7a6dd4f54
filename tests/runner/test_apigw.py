"""API Gateway REST API (proxy integration, payload v1) rules, without a server."""

import base64
import json
from typing import Any

import pytest

from devtools.apigw import (
    MethodNotAllowed,
    RouteMatch,
    build_proxy_event,
    gateway_response,
    match_route,
    resolve_route,
    translate_response,
)
from devtools.sam_template import ApiRoute, GatewayResponse

ROUTES = [
    ApiRoute("GET", "/items/{id}"),
    ApiRoute("GET", "/items/mine"),
    ApiRoute("DELETE", "/items/{id}"),
    ApiRoute("ANY", "/files/{proxy+}"),
    ApiRoute("GET", "/"),
]


def proxy_event(**overrides: Any) -> dict[str, Any]:
    arguments: dict[str, Any] = {
        "method": "GET",
        "raw_path": "/items/42",
        "query_string": "",
        "headers": [("Host", "localhost:3000")],
        "body": b"",
        "route": ApiRoute("GET", "/items/{id}"),
        "path_params": {"id": "42"},
        "binary_media_types": ["image/png"],
        "source_ip": "127.0.0.1",
    }
    return build_proxy_event(**{**arguments, **overrides})


def test_given_param_route_when_path_matches_then_parameter_is_extracted() -> None:
    match = match_route(ROUTES, "GET", "/items/42")

    assert match is not None
    assert (match.route, match.path_parameters) == (
        ApiRoute("GET", "/items/{id}"),
        {"id": "42"},
    )


def test_given_literal_and_param_routes_when_literal_fits_then_literal_wins() -> None:
    match = match_route(ROUTES, "GET", "/items/mine")

    assert match is not None
    assert (match.route, match.path_parameters) == (ApiRoute("GET", "/items/mine"), {})


def test_given_literal_resource_when_its_method_is_missing_then_a_less_specific_resource_with_it_serves() -> None:
    # API Gateway resolves the (resource, method) pair, not the resource first.
    match = match_route(ROUTES, "DELETE", "/items/mine")

    assert match is not None
    assert (match.route, match.path_parameters) == (ApiRoute("DELETE", "/items/{id}"), {"id": "mine"})


def test_given_no_resource_with_the_method_then_allow_is_every_method_the_path_has() -> None:
    assert resolve_route(ROUTES, "POST", "/items/mine") == MethodNotAllowed(("DELETE", "GET"))


CATCH_ALL_ROUTES = [*ROUTES, ApiRoute("ANY", "/items/mine"), ApiRoute("ANY", "/items/{id}")]


def test_given_a_resource_with_any_when_its_explicit_method_is_asked_then_the_explicit_method_serves() -> None:
    match = match_route(CATCH_ALL_ROUTES, "GET", "/items/mine")

    assert match is not None
    assert match.route == ApiRoute("GET", "/items/mine")


def test_given_a_resource_with_any_when_it_lacks_the_method_then_its_any_serves_before_a_less_specific_one() -> None:
    match = match_route(CATCH_ALL_ROUTES, "DELETE", "/items/mine")

    assert match is not None
    assert (match.route, match.path_parameters) == (ApiRoute("ANY", "/items/mine"), {})


def test_given_greedy_route_when_nested_path_then_proxy_holds_the_rest() -> None:
    match = match_route(ROUTES, "PATCH", "/files/a/b%20c/d.txt")

    assert match is not None
    assert (match.route, match.path_parameters) == (
        ApiRoute("ANY", "/files/{proxy+}"),
        {"proxy": "a/b c/d.txt"},
    )


def test_given_greedy_route_when_nothing_follows_prefix_then_no_match() -> None:
    assert match_route(ROUTES, "GET", "/files") is None


def test_given_route_when_method_differs_then_no_match() -> None:
    assert match_route(ROUTES, "POST", "/items/42") is None


def test_given_root_route_when_root_requested_then_it_matches() -> None:
    match = match_route(ROUTES, "GET", "/")

    assert match is not None
    assert match.route == ApiRoute("GET", "/")


def test_given_unknown_path_when_matched_then_none() -> None:
    assert match_route(ROUTES, "GET", "/unknown/42") is None


def test_given_no_query_or_params_when_event_built_then_api_gateway_nulls() -> None:
    event = proxy_event(path_params={}, route=ApiRoute("GET", "/items"))

    assert event["queryStringParameters"] is None
    assert event["multiValueQueryStringParameters"] is None
    assert event["pathParameters"] is None
    assert event["stageVariables"] is None
    assert event["body"] is None
    assert event["isBase64Encoded"] is False


def test_given_repeated_query_and_headers_then_last_wins_and_all_are_kept() -> None:
    event = proxy_event(
        query_string="tag=a&tag=b&empty=",
        headers=[("Host", "localhost"), ("X-Tag", "one"), ("X-Tag", "two")],
    )

    assert event["queryStringParameters"] == {"tag": "b", "empty": ""}
    assert event["multiValueQueryStringParameters"] == {"tag": ["a", "b"], "empty": [""]}
    assert event["headers"] == {"Host": "localhost", "X-Tag": "two"}
    assert event["multiValueHeaders"] == {"Host": ["localhost"], "X-Tag": ["one", "two"]}


def test_given_request_when_event_built_then_request_context_is_complete() -> None:
    event = proxy_event(headers=[("Host", "localhost:3000"), ("User-Agent", "tests")])

    context = event["requestContext"]
    assert {key: context[key] for key in ("resourcePath", "httpMethod", "path")} == {
        "resourcePath": "/items/{id}",
        "httpMethod": "GET",
        "path": "/local/items/42",
    }
    assert (context["stage"], context["protocol"], context["domainName"]) == (
        "local",
        "HTTP/1.1",
        "localhost:3000",
    )
    assert context["identity"]["sourceIp"] == "127.0.0.1"
    assert context["identity"]["userAgent"] == "tests"
    assert isinstance(context["requestTimeEpoch"], int)
    assert context["requestId"]
    assert context["extendedRequestId"]
    assert context["apiId"]
    assert context["accountId"] == "000000000000"


def test_given_text_body_when_event_built_then_body_is_plain_text() -> None:
    event = proxy_event(
        method="POST",
        headers=[("Content-Type", "application/json; charset=utf-8")],
        body=b'{"name": "Ada"}',
    )

    assert (event["body"], event["isBase64Encoded"]) == ('{"name": "Ada"}', False)


def test_given_binary_content_type_when_event_built_then_body_is_base64() -> None:
    event = proxy_event(method="POST", headers=[("content-type", "image/png")], body=b"\x89PNG")

    assert (event["body"], event["isBase64Encoded"]) == ("iVBORw==", True)


def test_given_headers_and_multi_value_headers_then_multi_value_wins_per_name() -> None:
    result = {
        "statusCode": 201,
        "headers": {"Content-Type": "text/plain", "Set-Cookie": "ignored=1"},
        "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]},
        "body": "created",
    }

    assert translate_response(result, None, []) == (
        201,
        [("Content-Type", "text/plain"), ("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")],
        b"created",
    )


def test_given_no_content_type_when_translated_then_json_is_assumed() -> None:
    assert translate_response({"statusCode": 204}, None, []) == (
        204,
        [("Content-Type", "application/json")],
        b"",
    )


def test_given_base64_body_and_no_binary_types_then_base64_text_is_returned() -> None:
    result = {
        "statusCode": 200,
        "headers": {"Content-Type": "application/gzip"},
        "body": base64.b64encode(b"raw").decode(),
        "isBase64Encoded": True,
    }

    assert translate_response(result, "*/*", []) == (
        200,
        [("Content-Type", "application/gzip")],
        b"cmF3",
    )


@pytest.mark.parametrize(
    ("accept", "binary_types"),
    [
        ("application/octet-stream", ["application/octet-stream"]),
        ("image/webp, text/html", ["image/*"]),
        (None, ["*/*"]),
    ],
)
def test_given_base64_body_when_binary_type_matches_then_bytes_are_decoded(
    accept: str | None, binary_types: list[str]
) -> None:
    result = {
        "statusCode": 200,
        "headers": {"Content-Type": "text/plain"},
        "body": base64.b64encode(b"\x00raw").decode(),
        "isBase64Encoded": True,
    }

    assert translate_response(result, accept, binary_types)[2] == b"\x00raw"


def test_given_binary_type_only_later_in_accept_then_base64_text_is_kept() -> None:
    result = {
        "statusCode": 200,
        "headers": {"Content-Type": "text/plain"},
        "body": "cmF3",
        "isBase64Encoded": True,
    }

    assert translate_response(result, "text/html, image/png", ["image/png"])[2] == b"cmF3"


@pytest.mark.parametrize(
    "result",
    [
        None,
        "not a dict",
        {"body": "missing status"},
        {"statusCode": "200", "body": "string status"},
        {"statusCode": 200, "body": {"not": "a string"}},
        {"statusCode": 200, "headers": ["not", "a", "dict"]},
        {"statusCode": 200, "body": "%%%", "isBase64Encoded": True},
    ],
)
def test_given_malformed_lambda_result_when_translated_then_none_so_the_caller_answers_502(result: Any) -> None:
    assert translate_response(result, "*/*", ["*/*"]) is None


def test_given_known_path_when_method_is_missing_then_method_not_allowed_lists_the_resource_methods() -> None:
    assert resolve_route(ROUTES, "PUT", "/items/42") == MethodNotAllowed(("DELETE", "GET"))


def test_given_unknown_path_when_resolved_then_none() -> None:
    assert resolve_route(ROUTES, "GET", "/nowhere") is None


def test_given_any_route_when_unusual_method_used_then_it_matches() -> None:
    resolved = resolve_route(ROUTES, "TRACE", "/files/a/b")

    assert isinstance(resolved, RouteMatch)
    assert resolved.path_parameters == {"proxy": "a/b"}


ENVELOPE_4XX = GatewayResponse(
    None, {}, '{"error": {"code": "$context.error.responseType", "message": $context.error.messageString}}'
)


def test_given_no_gateway_responses_when_rendered_then_api_gateway_default_body() -> None:
    assert gateway_response({}, "MISSING_AUTHENTICATION_TOKEN") == (
        403,
        [("Content-Type", "application/json")],
        b'{"message": "Missing Authentication Token"}',
    )


def test_given_a_customised_type_when_rendered_then_its_status_headers_and_template_apply() -> None:
    responses = {
        "MISSING_AUTHENTICATION_TOKEN": GatewayResponse(404, {"X-Why": "no route"}, '{"code": "NOT_FOUND"}'),
        "DEFAULT_4XX": ENVELOPE_4XX,
    }

    assert gateway_response(responses, "MISSING_AUTHENTICATION_TOKEN") == (
        404,
        [("Content-Type", "application/json"), ("X-Why", "no route")],
        b'{"code": "NOT_FOUND"}',
    )


def test_given_only_a_default_4xx_when_rendered_then_it_fills_in_type_and_quoted_message() -> None:
    status, headers, body = gateway_response(
        {"DEFAULT_4XX": ENVELOPE_4XX},
        "METHOD_NOT_ALLOWED",
        status=405,
        message='say "no"',
        extra_headers=[("Allow", "GET")],
    )

    assert (status, headers) == (405, [("Content-Type", "application/json"), ("Allow", "GET")])
    assert json.loads(body) == {"error": {"code": "METHOD_NOT_ALLOWED", "message": 'say "no"'}}


def test_given_a_default_5xx_when_a_lambda_error_is_rendered_then_status_stays_502_with_the_request_id() -> None:
    responses = {"DEFAULT_5XX": GatewayResponse(None, {}, '{"requestId": "$context.requestId"}')}

    status, _, body = gateway_response(responses, "DEFAULT_5XX", status=502, message="x", request_id="r-1")

    assert (status, json.loads(body)) == (502, {"requestId": "r-1"})
