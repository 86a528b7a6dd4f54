"""Access tokens (HS256 JWT, short-lived) and refresh tokens (random, stored only as a SHA-256 hash)."""

from __future__ import annotations

import hashlib
import secrets
import time
from uuid import UUID

import jwt

from ticketing.auth.principal import Principal, Role
from ticketing.auth.secrets import jwt_signing_key
from ticketing.config import get_settings
from ticketing.errors import TokenExpired, Unauthorized

_ALGORITHM = "HS256"
_ISSUER = "ticketing"
_ACCESS = "access"


def issue_access_token(principal: Principal) -> str:
    now = int(time.time())
    claims = {
        "sub": str(principal.user_id),
        "role": principal.role.value,
        "typ": _ACCESS,
        "iss": _ISSUER,
        "iat": now,
        "exp": now + get_settings().access_token_ttl_seconds,
        "jti": secrets.token_hex(8),
    }
    return jwt.encode(claims, jwt_signing_key(), algorithm=_ALGORITHM)


def verify_access_token(token: str) -> Principal:
    try:
        claims = jwt.decode(
            token,
            jwt_signing_key(),
            algorithms=[_ALGORITHM],
            issuer=_ISSUER,
            options={"require": ["sub", "role", "exp", "iat", "typ"]},
        )
    except jwt.ExpiredSignatureError as error:
        raise TokenExpired("The access token has expired; refresh it.") from error
    except jwt.InvalidTokenError as error:
        raise Unauthorized("The access token is not valid.") from error
    try:
        if claims["typ"] != _ACCESS:
            raise ValueError("not an access token")
        return Principal(user_id=UUID(claims["sub"]), role=Role(claims["role"]))
    except ValueError as error:
        raise Unauthorized("The access token is not valid.") from error


def new_refresh_token() -> str:
    return secrets.token_urlsafe(32)


def refresh_token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8")).digest()
