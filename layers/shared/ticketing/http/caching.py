"""Who may keep a copy of an answer: public reads declare their edge policy in one line (docs/caching.md).

    @app.get("/api/events/<event_id>/seats/status", ...)
    @edge_cached(max_age=1, stale_while_revalidate=1)
    def get_seat_status(...): ...

An anonymous GET of such a route that answers 200 or 304 gets `Cache-Control: public, max-age=N,
stale-while-revalidate=M`, so CloudFront (and the browser) may serve it for N seconds and revalidate it in the
background for M more. Any request that carries an `Authorization` header gets `private, no-store`, on every
route: what a caller sees with a token may be theirs alone. Everything else keeps what the route chose, or
`no-store` (ticketing.http.responses).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

Handler = TypeVar("Handler", bound=Callable[..., Any])

AUTHENTICATED_CACHE_CONTROL = "private, no-store"
CACHEABLE_STATUSES = frozenset({200, 304})


@dataclass(frozen=True)
class EdgePolicy:
    max_age: int
    stale_while_revalidate: int

    @property
    def cache_control(self) -> str:
        return f"public, max-age={self.max_age}, stale-while-revalidate={self.stale_while_revalidate}"


def edge_cached(*, max_age: int, stale_while_revalidate: int) -> Callable[[Handler], Handler]:
    """Declares a GET route's anonymous answers cacheable by shared caches; put it under `@app.get(...)`."""
    policy = EdgePolicy(max_age, stale_while_revalidate)

    def declare(handler: Handler) -> Handler:
        handler.edge_policy = policy  # type: ignore[attr-defined]
        return handler

    return declare


def declared_policy(handler: Callable[..., Any]) -> EdgePolicy | None:
    policy = getattr(handler, "edge_policy", None)
    return policy if isinstance(policy, EdgePolicy) else None


def cache_control(policy: EdgePolicy | None, *, method: str, authorized: bool, status: int) -> str | None:
    """The Cache-Control an answer must carry, or None to keep the route's own (or the default `no-store`)."""
    if authorized:
        return AUTHENTICATED_CACHE_CONTROL
    if policy is not None and method.upper() in ("GET", "HEAD") and status in CACHEABLE_STATUSES:
        return policy.cache_control
    return None


def set_cache_control(result: dict[str, Any], value: str) -> None:
    """Replaces any Cache-Control of a proxy result (single- or multi-value headers) with `value`."""
    for key in ("headers", "multiValueHeaders"):
        headers = result.get(key)
        if headers:
            for name in [name for name in headers if name.lower() == "cache-control"]:
                del headers[name]
    if result.get("multiValueHeaders"):
        result["multiValueHeaders"]["Cache-Control"] = [value]
    else:
        result["headers"] = {**(result.get("headers") or {}), "Cache-Control": value}
