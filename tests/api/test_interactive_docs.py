"""GET /api/openapi.json and the interactive documentation at /api/docs, served by the API itself (offline)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_the_served_document_is_the_committed_one(api: Any) -> None:
    response = api.get("/api/openapi.json")

    assert response.status == 200
    assert response.header("Content-Type").startswith("application/json")
    assert response.json() == json.loads((REPO_ROOT / "docs" / "openapi.json").read_text())


def test_the_docs_page_loads_only_files_of_this_api(api: Any) -> None:
    response = api.get("/api/docs", headers={"Accept": "text/html"})

    page = response.body.decode()
    assert response.status == 200
    assert response.header("Content-Type").startswith("text/html")
    assert 'src="docs/swagger-ui-bundle.js"' in page
    assert 'href="docs/swagger-ui.css"' in page
    assert "http" not in page.replace("<!DOCTYPE html>", "")
    assert "script-src 'self'" in response.header("Content-Security-Policy")


@pytest.mark.parametrize(
    ("path", "content_type", "marker"),
    [
        ("/api/docs/swagger-ui-bundle.js", "text/javascript", b"SwaggerUIBundle"),
        ("/api/docs/swagger-ui.css", "text/css", b".swagger-ui"),
        ("/api/docs/swagger-initializer.js", "text/javascript", b"/api/openapi.json"),
    ],
)
def test_each_file_of_the_page_is_served(api: Any, path: str, content_type: str, marker: bytes) -> None:
    response = api.get(path, headers={"Accept": "*/*"})

    assert response.status == 200
    assert response.header("Content-Type").startswith(content_type)
    assert marker in response.body


def test_the_script_is_gzipped_when_accepted_with_its_own_etag(api: Any) -> None:
    plain = api.get("/api/docs/swagger-ui-bundle.js", headers={"Accept": "*/*"})
    zipped = api.get("/api/docs/swagger-ui-bundle.js", headers={"Accept": "*/*", "Accept-Encoding": "gzip"})

    assert zipped.header("Content-Encoding") == "gzip"
    assert gzip.decompress(zipped.body) == plain.body
    assert zipped.header("ETag") != plain.header("ETag")
    assert len(zipped.body) < len(plain.body) / 2


def test_a_known_etag_answers_304_without_a_body(api: Any) -> None:
    first = api.get("/api/docs/swagger-ui.css", headers={"Accept": "*/*"})

    again = api.get("/api/docs/swagger-ui.css", headers={"Accept": "*/*", "If-None-Match": first.header("ETag")})

    assert again.status == 304
    assert again.body == b""


def test_the_docs_are_served_over_http_by_the_runner(http_api: Any) -> None:
    document = http_api.get("/api/openapi.json")
    page = http_api.get("/api/docs", headers={"Accept": "text/html"})

    assert document.status == 200
    assert "bearerAuth" in document.json()["components"]["securitySchemes"]
    assert page.status == 200
