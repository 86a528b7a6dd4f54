"""Access tokens (EdDSA JWS, short-lived) and refresh tokens (random, stored only as a SHA-256 hash).

An access token is a JWS compact serialization signed with Ed25519 (`alg: EdDSA`), header `kid` (the signing
key's thumbprint) and `typ: at+jwt` (RFC 9068), of {sub, role, iss, iat, exp, jti}. Only the auth function
holds the private key ring (JWT_SIGNING_KEY, or the secret JWT_SIGNING_KEY_ARN that only its role may read);
every other function verifies with the public keys in JWT_PUBLIC_KEYS and so cannot mint a token. The key
material is ticketing.signing_keys' (the same rings as ticket codes and admission tokens; docs/security.md
"Tokens" describes rotation by `kid` with an overlap window).

A token is refused unless its header names `alg: EdDSA`, `typ: at+jwt` and a `kid` of a key this function
trusts, and the signature verifies with that key: a token signed with the old HS256 secret, `alg: none`, an
unknown key or a known key under another `kid` is a 401.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from typing import TYPE_CHECKING
from uuid import UUID

from ticketing.auth.principal import Principal, Role
from ticketing.config import get_settings
from ticketing.errors import TokenExpired, Unauthorized
from ticketing.signing_keys import ALGORITHM, KeyRing, load_key_ring, parse_public_keys

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

TOKEN_TYPE = "at+jwt"
_ISSUER = "ticketing"
# Far above any token we issue (about 330 characters); a longer one is refused before any parsing.
_MAX_TOKEN_LENGTH = 2048


def signing_ring() -> KeyRing:
    """The private key ring: the auth function's alone in AWS."""
    settings = get_settings()
    return load_key_ring(settings.jwt_signing_key, settings.jwt_signing_key_arn, "JWT_SIGNING_KEY")


def verifying_keys() -> dict[str, Ed25519PublicKey]:
    """kid → public key of every key this function accepts: JWT_PUBLIC_KEYS, else the signing ring's own."""
    public_keys = get_settings().jwt_public_keys
    if public_keys:
        return parse_public_keys(public_keys)
    return signing_ring().verifying_keys


def issue_access_token(principal: Principal, ring: KeyRing | None = None) -> str:
    import jwt

    ring = ring or signing_ring()
    now = int(time.time())
    claims = {
        "sub": str(principal.user_id),
        "role": principal.role.value,
        "iss": _ISSUER,
        "iat": now,
        "exp": now + get_settings().access_token_ttl_seconds,
        "jti": secrets.token_hex(8),
    }
    return jwt.encode(
        claims, ring.signing_key, algorithm=ALGORITHM, headers={"kid": ring.signing_kid, "typ": TOKEN_TYPE}
    )


def _invalid() -> Unauthorized:
    return Unauthorized("The access token is not valid.")


def verify_access_token(token: str) -> Principal:
    import jwt

    if len(token) > _MAX_TOKEN_LENGTH:
        raise _invalid()
    try:
        header = jwt.get_unverified_header(token)
        public_key = verifying_keys().get(str(header.get("kid")))
        if public_key is None or header.get("alg") != ALGORITHM or header.get("typ") != TOKEN_TYPE:
            raise _invalid()
        claims = jwt.decode(
            token,
            public_key,
            algorithms=[ALGORITHM],
            issuer=_ISSUER,
            options={"require": ["sub", "role", "exp", "iat"]},
        )
    except jwt.ExpiredSignatureError as error:
        raise TokenExpired("The access token has expired; refresh it.") from error
    except jwt.InvalidTokenError as error:
        raise _invalid() from error
    try:
        return Principal(user_id=UUID(str(claims["sub"])), role=Role(claims["role"]))
    except ValueError as error:
        raise _invalid() from error


def new_refresh_token() -> str:
    return secrets.token_urlsafe(32)


def refresh_token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8")).digest()
