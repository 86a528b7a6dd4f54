"""Access tokens made by hand, for tests that need one the auth function would never issue."""

from __future__ import annotations

import os
import time
from typing import Any

import jwt

from ticketing.signing_keys import KeyRing, parse_key_ring


def test_signing_ring() -> KeyRing:
    """The key ring the suite's auth function signs with (JWT_SIGNING_KEY, set in tests/conftest.py)."""
    return parse_key_ring(os.environ["JWT_SIGNING_KEY"])


def access_claims(user_id: str, **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    return {"sub": user_id, "role": "USER", "iss": "ticketing", "iat": now, "exp": now + 60} | overrides


def signed(claims: dict[str, Any], ring: KeyRing | None = None, **headers: Any) -> str:
    """`claims` signed as the auth function signs (EdDSA, its `kid`, `typ: at+jwt`), `headers` overriding."""
    ring = ring or test_signing_ring()
    header = {"kid": ring.signing_kid, "typ": "at+jwt"} | headers
    return jwt.encode(claims, ring.signing_key, algorithm="EdDSA", headers=header)
