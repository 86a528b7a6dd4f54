"""Every route's caching policy, anonymous and with a token (docs/caching.md).

The public reads CloudFront may share declare `edge_cached`; every other route keeps no shared copy, and any
request with a bearer token is `private, no-store`. A new public route (the waiting room's state) joins the
table below and declares its policy in one line.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from devtools.lambda_loader import load_module
from devtools.openapi import normalized_path
from devtools.sam_template import ApiRoute, FunctionSpec, load_template
from ticketing.http.caching import AUTHENTICATED_CACHE_CONTROL, cache_control

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"
API_FUNCTIONS = [function for function in load_template(TEMPLATE).functions if function.api_events]
ROUTES = [(function, route) for function in API_FUNCTIONS for route in function.api_events if route.method != "ANY"]
PUBLIC_READS = {
    ("GET", "/api/events"): "public, max-age=10, stale-while-revalidate=30",
    ("GET", "/api/events/{}"): "public, max-age=2, stale-while-revalidate=5",
    ("GET", "/api/events/{}/seats/status"): "public, max-age=1, stale-while-revalidate=1",
}


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "0d6f4c2e-8a4b-4a5e-9f53-3c1f0b7d2a11", path)


def _route_id(item: tuple[FunctionSpec, ApiRoute]) -> str:
    return f"{item[1].method} {item[1].path}"


@pytest.mark.parametrize("item", ROUTES, ids=[_route_id(item) for item in ROUTES])
def test_an_anonymous_answer_is_shared_only_on_the_public_reads(
    item: tuple[FunctionSpec, ApiRoute], database_url: str
) -> None:
    function, route = item
    policy = load_module(function).app.edge_policy(route.method, _concrete(route.path))

    anonymous = cache_control(policy, method=route.method, authorized=False, status=200)

    assert anonymous == PUBLIC_READS.get((route.method, normalized_path(route.path)))


@pytest.mark.parametrize("item", ROUTES, ids=[_route_id(item) for item in ROUTES])
def test_an_answer_to_a_token_is_never_stored(item: tuple[FunctionSpec, ApiRoute], database_url: str) -> None:
    function, route = item
    policy = load_module(function).app.edge_policy(route.method, _concrete(route.path))

    with_token = cache_control(policy, method=route.method, authorized=True, status=200)

    assert with_token == AUTHENTICATED_CACHE_CONTROL


def test_every_public_read_is_a_route_of_the_template() -> None:
    declared = {(route.method, normalized_path(route.path)) for _, route in ROUTES}

    assert set(PUBLIC_READS) <= declared


def test_an_error_answer_of_a_public_read_is_not_shared() -> None:
    function, route = next(
        (function, route) for function, route in ROUTES if (route.method, route.path) == ("GET", "/api/events/{id}")
    )
    policy = load_module(function).app.edge_policy("GET", _concrete(route.path))

    assert policy is not None
    assert cache_control(policy, method="GET", authorized=False, status=404) is None
    assert cache_control(policy, method="GET", authorized=False, status=304) == PUBLIC_READS[("GET", "/api/events/{}")]
