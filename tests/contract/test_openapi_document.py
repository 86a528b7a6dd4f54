"""docs/openapi.json is generated from the resolvers (`make openapi`) and must not go stale."""

from __future__ import annotations

import json
from pathlib import Path

from devtools.openapi import build_openapi

COMMITTED = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"


def test_the_committed_openapi_document_is_current(database_url: str) -> None:
    committed = json.loads(COMMITTED.read_text())

    generated = build_openapi()

    assert committed == generated, "docs/openapi.json is stale: run `make openapi`"


def test_the_openapi_document_describes_every_spec_path(database_url: str) -> None:
    paths = build_openapi()["paths"]

    assert {"/api/auth/register", "/api/auth/login", "/api/users/profile", "/api/health"} <= set(paths)
