"""docs/openapi.json is generated from the resolvers (`make openapi`) and must not go stale."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from devtools.openapi import DOCUMENT_COPIES, build_openapi


@pytest.mark.parametrize("copy", DOCUMENT_COPIES, ids=lambda path: str(path.relative_to(path.parents[1])))
def test_the_committed_openapi_document_is_current(database_url: str, copy: Path) -> None:
    committed = json.loads(copy.read_text())

    generated = build_openapi()

    assert committed == generated, f"{copy} is stale: run `make openapi`"


def test_the_openapi_document_describes_every_spec_path(database_url: str) -> None:
    paths = build_openapi()["paths"]

    assert {"/api/auth/register", "/api/auth/login", "/api/users/profile", "/api/health"} <= set(paths)


def test_every_operation_is_filed_under_exactly_one_described_group(database_url: str) -> None:
    from ticketing.http.tags import ApiTag

    document = build_openapi()
    operations = [operation for path in document["paths"].values() for operation in path.values()]

    untagged = [operation["operationId"] for operation in operations if len(operation.get("tags", [])) != 1]

    assert untagged == [], "give the function's resolver its group: create_resolver(tag=ApiTag.<GROUP>)"
    assert [tag["name"] for tag in document["tags"]] == [tag.value for tag in ApiTag]
    assert all(tag["description"] for tag in document["tags"])
    assert {operation["tags"][0] for operation in operations} == {tag.value for tag in ApiTag}


def test_the_interactive_documentations_own_files_are_not_operations(database_url: str) -> None:
    paths = build_openapi()["paths"]

    assert [path for path in paths if path.startswith("/api/docs")] == []
    assert "/api/openapi.json" in paths
