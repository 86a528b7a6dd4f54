"""DocsFunction: GET /api/openapi.json and the interactive documentation at GET /api/docs (Swagger UI).

The OpenAPI document is generated from the handlers by `make openapi` and shipped next to this file. Swagger
UI's files come from the pinned aws-lambda-powertools package (already in the layer) and are served by this
function, so the page works without internet access.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import aws_lambda_powertools
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

from ticketing.http.representation import accepts_gzip, if_none_match_versions, representation_etag
from ticketing.http.resolver import create_resolver, lambda_entrypoint
from ticketing.http.tags import ApiTag

app = create_resolver(tag=ApiTag.DOCS)

OPENAPI_DOCUMENT = Path(__file__).with_name("openapi.json")
# The assets' folder inside the installed package, found without importing it: its __init__ loads Powertools'
# pydantic models of the whole OpenAPI specification, a third of this function's cold start.
SWAGGER_UI = Path(aws_lambda_powertools.__file__).parent / "event_handler" / "openapi" / "swagger_ui"
# Assets change only with a deploy: a day of caching, revalidated by ETag afterwards.
ASSET_CACHE_CONTROL = "public, max-age=86400"
PAGE_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:;"
    " connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Ticket booking API</title>
  <link rel="stylesheet" href="docs/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="docs/swagger-ui-bundle.js"></script>
  <script src="docs/swagger-initializer.js"></script>
</body>
</html>
"""

# The page may sit under a stage prefix (/dev/api/docs): the document and "Try it out" use the same prefix.
INITIALIZER = """window.addEventListener("load", function () {
  var base = window.location.pathname.replace(/\\/api\\/docs\\/?$/, "");
  fetch(base + "/api/openapi.json").then(function (answer) { return answer.json(); }).then(function (spec) {
    spec.servers = [{ url: window.location.origin + base, description: "this API" }];
    window.ui = SwaggerUIBundle({
      spec: spec,
      dom_id: "#swagger-ui",
      deepLinking: true,
      persistAuthorization: true,
      displayRequestDuration: true,
      presets: [SwaggerUIBundle.presets.apis],
      layout: "BaseLayout"
    });
  });
});
"""


@dataclass(frozen=True)
class Asset:
    body: bytes
    content_type: str

    @property
    def version(self) -> str:
        return hashlib.sha256(self.body).hexdigest()[:32]


@cache
def _assets() -> dict[str, Asset]:
    # Read on first use (not at import): a cold start of this function pays only for what it serves.
    return {
        "page": Asset(PAGE.encode(), "text/html; charset=utf-8"),
        "openapi": Asset(OPENAPI_DOCUMENT.read_bytes(), "application/json"),
        "css": Asset(SWAGGER_UI.joinpath("swagger-ui.min.css").read_bytes(), "text/css; charset=utf-8"),
        "js": Asset(SWAGGER_UI.joinpath("swagger-ui-bundle.min.js").read_bytes(), "text/javascript; charset=utf-8"),
        "initializer": Asset(INITIALIZER.encode(), "text/javascript; charset=utf-8"),
    }


@cache
def _gzipped(name: str) -> str:
    return base64.b64encode(gzip.compress(_assets()[name].body, compresslevel=9, mtime=0)).decode("ascii")


def _serve(name: str, cache_control: str = ASSET_CACHE_CONTROL, **headers: str) -> Response[str | None]:
    """The asset with an ETag (per encoding), 304 on If-None-Match, gzip when the client accepts it."""
    asset = _assets()[name]
    request_headers = app.current_event.headers
    accept_encoding = request_headers.get("Accept-Encoding")
    gzipped = accepts_gzip(accept_encoding)
    etag = representation_etag(asset.version, gzipped=gzipped)
    common = {"ETag": etag, "Cache-Control": cache_control, "Vary": "Accept-Encoding", **headers}
    if asset.version in if_none_match_versions(request_headers.get("If-None-Match"), accept_encoding=accept_encoding):
        return Response(status_code=304, headers=common)
    if not gzipped:
        return Response(status_code=200, content_type=asset.content_type, body=asset.body.decode(), headers=common)
    response: Response[str | None] = Response(
        status_code=200,
        content_type=asset.content_type,
        body=_gzipped(name),
        headers={**common, "Content-Encoding": "gzip"},
    )
    response.base64_encoded = True
    return response


def _content(media_type: str, description: str, kind: str = "string") -> dict[int, OpenAPIResponse]:
    return {
        200: {"description": description, "content": {media_type: {"schema": {"type": kind}}}},
        304: {"description": "Not modified (If-None-Match matched the ETag)", "content": {}},
    }


@app.get(
    "/api/openapi.json",
    summary="This API's OpenAPI 3.1 document",
    responses=_content("application/json", "The OpenAPI document", kind="object"),
)
def openapi_document() -> Response[str | None]:
    """Generated from the handlers (`make openapi`); the interactive documentation at /api/docs reads it."""
    return _serve("openapi", cache_control="no-cache")


# The page and its files are served, not documented: Swagger UI's own assets are no operations of this API.
@app.get("/api/docs", include_in_schema=False)
def docs_page() -> Response[str | None]:
    """Try every operation from the browser: sign in with /api/auth/login, then Authorize with the accessToken.
    Works offline: every file of the page is served by this API."""
    return _serve("page", cache_control="no-cache", **{"Content-Security-Policy": PAGE_SECURITY_POLICY})


@app.get("/api/docs/swagger-ui.css", include_in_schema=False)
def docs_stylesheet() -> Response[str | None]:
    """A file of the interactive documentation (Swagger UI, shipped with aws-lambda-powertools)."""
    return _serve("css")


@app.get("/api/docs/swagger-ui-bundle.js", include_in_schema=False)
def docs_script() -> Response[str | None]:
    """A file of the interactive documentation (Swagger UI, shipped with aws-lambda-powertools)."""
    return _serve("js")


@app.get("/api/docs/swagger-initializer.js", include_in_schema=False)
def docs_initializer() -> Response[str | None]:
    """Loads /api/openapi.json and points "Try it out" at this API (under its stage prefix, if any)."""
    return _serve("initializer", cache_control="no-cache")


lambda_handler = lambda_entrypoint(app)
