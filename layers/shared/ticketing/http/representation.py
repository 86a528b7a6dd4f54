"""Large JSON documents over API Gateway: strong ETags, 304 on If-None-Match, gzip, and Lambda's size limit.

A Lambda proxy response travels as JSON, so the body counts escaped (plain text) or base64-encoded (gzip)
against the 6 MB synchronous-invocation limit. `max_response_bytes` is the budget for the body as it
travels; the rest of the limit is left for headers and the envelope.
"""

from __future__ import annotations

import base64
import gzip
from collections.abc import Callable

from aws_lambda_powertools.event_handler import Response, content_types

from ticketing.errors import DomainError

# Level 6 compresses seat maps almost as well as 9 in a fraction of the time (see bench/results/catalog.md).
GZIP_LEVEL = 6


# A gzipped body is another representation with other bytes, so it gets its own strong ETag (RFC 9110 §8.8.3).
GZIP_ETAG_SUFFIX = "-gzip"


def strong_etag(version: str) -> str:
    return f'"{version}"'


def representation_etag(version: str, *, gzipped: bool) -> str:
    return strong_etag(f"{version}{GZIP_ETAG_SUFFIX}" if gzipped else version)


def if_none_match_versions(if_none_match: str | None, *, accept_encoding: str | None) -> frozenset[str]:
    """The versions If-None-Match names for the representation this request selects (gzip or plain), compared
    weakly (RFC 9110 §13.1.2: W/ prefixes are ignored); `*` stays `*`. A plain copy never revalidates a gzip
    request, nor the other way round."""
    gzipped = accepts_gzip(accept_encoding)
    versions = set()
    for raw in (if_none_match or "").split(","):
        tag = raw.strip().removeprefix("W/").strip('"')
        if tag == "*":
            versions.add(tag)
        elif gzipped and tag.endswith(GZIP_ETAG_SUFFIX):
            versions.add(tag.removesuffix(GZIP_ETAG_SUFFIX))
        elif tag and not gzipped and not tag.endswith(GZIP_ETAG_SUFFIX):
            versions.add(tag)
    return frozenset(versions)


def accepts_gzip(accept_encoding: str | None) -> bool:
    """True when Accept-Encoding lists gzip (or *) without q=0."""
    for coding in (accept_encoding or "").split(","):
        name, _, parameters = coding.partition(";")
        if name.strip().lower() not in ("gzip", "x-gzip", "*"):
            continue
        quality = parameters.strip().lower().removeprefix("q=")
        try:
            if not parameters.strip() or float(quality) > 0:
                return True
        except ValueError:
            continue
    return False


def _escaped_size(encoded: bytes) -> int:
    # Inside the Lambda response envelope every quote and backslash of the body gains a backslash.
    return len(encoded) + encoded.count(b'"') + encoded.count(b"\\")


def json_representation(
    body: str | None,
    *,
    version: str,
    accept_encoding: str | None,
    cache_control: str,
    max_response_bytes: int,
    too_large: Callable[[int], DomainError],
) -> Response[str | None]:
    """The 200, 304 (`body` None: the client has `version`) or, raised by `too_large(size)`, 413 answer."""
    gzipped = accepts_gzip(accept_encoding)
    headers = {
        "ETag": representation_etag(version, gzipped=gzipped),
        "Cache-Control": cache_control,
        "Vary": "Accept-Encoding",
    }
    if body is None:
        return Response(status_code=304, headers=headers)
    encoded = body.encode("utf-8")
    if gzipped:
        compressed = base64.b64encode(gzip.compress(encoded, compresslevel=GZIP_LEVEL, mtime=0)).decode("ascii")
        if len(compressed) > max_response_bytes:
            raise too_large(len(compressed))
        response: Response[str | None] = Response(
            status_code=200,
            content_type=content_types.APPLICATION_JSON,
            body=compressed,
            headers={**headers, "Content-Encoding": "gzip"},
        )
        # Encoded here rather than by Powertools, so response validation sees text and the size is known.
        response.base64_encoded = True
        return response
    size = _escaped_size(encoded)
    if size > max_response_bytes:
        raise too_large(size)
    return Response(status_code=200, content_type=content_types.APPLICATION_JSON, body=body, headers=headers)
