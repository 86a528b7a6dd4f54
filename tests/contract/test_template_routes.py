"""The routes API Gateway sends to a function (template.yaml) are exactly the routes its resolver serves.

Each path also has one `ANY` event on the function that serves it: API Gateway sends it every method the path
lacks, and the function answers 405 with `Allow` (docs/errors.md). Those catch-alls are no routes of their own.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from devtools.openapi import normalized_path, resolver_routes
from devtools.sam_template import ApiRoute, FunctionSpec, load_template

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"
API_FUNCTIONS = [function for function in load_template(TEMPLATE).functions if function.api_events]


def _routes(function: FunctionSpec) -> list[ApiRoute]:
    return [route for route in function.api_events if route.method != "ANY"]


def _catch_alls(function: FunctionSpec) -> list[ApiRoute]:
    return [route for route in function.api_events if route.method == "ANY"]


def test_the_template_declares_api_functions() -> None:
    assert {"AuthFunction", "UsersFunction", "HealthFunction"} <= {f.logical_id for f in API_FUNCTIONS}


@pytest.mark.parametrize("function", API_FUNCTIONS, ids=lambda function: function.logical_id)
def test_template_routes_equal_resolver_routes(function: FunctionSpec, database_url: str) -> None:
    declared = {(route.method, normalized_path(route.path)) for route in _routes(function)}

    served = resolver_routes(function)

    assert declared == served, f"only in template: {declared - served}; only in resolver: {served - declared}"


def test_no_route_is_declared_by_two_functions() -> None:
    owners: dict[tuple[str, str], str] = {}
    for function in API_FUNCTIONS:
        for route in _routes(function):
            key = (route.method, normalized_path(route.path))
            assert key not in owners, f"{key} is declared by {owners[key]} and {function.logical_id}"
            owners[key] = function.logical_id


def test_every_path_has_exactly_one_any_event_on_the_function_that_serves_it() -> None:
    serving = {(route.path, function.logical_id) for function in API_FUNCTIONS for route in _routes(function)}
    catch_alls = [(route.path, function.logical_id) for function in API_FUNCTIONS for route in _catch_alls(function)]

    assert sorted(catch_alls) == sorted(serving), "each path needs one ANY event, on its own function"
