"""Admission tokens: a JWS compact serialization (RFC 7515, `alg` EdDSA, header `kid`) of {sub, eid, jti, exp}.

Signed with the waiting room's own key ring (ADMISSION_SIGNING_KEY, or the secret ADMISSION_SIGNING_KEY_ARN),
loaded by the same machinery as the ticket codes' (ticketing.signing_keys.load_key_ring: PEM blocks, `kid`,
rotation), but a different key: the functions that check admissions never hold the key that makes tickets
(docs/decisions.md). The two kinds cannot stand in for each other anyway: an admission token carries the
header `typ: adm+jwt` that a ticket code never has, and a ticket code has none of the claims required here.
Verification uses the public key alone: no database, no queue, nothing but the token and the clock.

The same admission always gives the same token (Ed25519 is deterministic and `jti` is derived from the
event, the account and the admission's moment), so polling again answers the same token.
"""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import NAMESPACE_URL, UUID, uuid5

from ticketing.config import get_settings
from ticketing.errors import Forbidden
from ticketing.signing_keys import ALGORITHM, KeyRing, load_key_ring

TOKEN_TYPE = "adm+jwt"
MAX_TOKEN_LENGTH = 1000


def key_ring() -> KeyRing:
    settings = get_settings()
    return load_key_ring(settings.admission_signing_key, settings.admission_signing_key_arn, "ADMISSION_SIGNING_KEY")


def sign(user_id: UUID, event_id: UUID, admitted_us: int, expires_at: datetime, ring: KeyRing | None = None) -> str:
    import jwt

    ring = ring or key_ring()
    claims = {
        "sub": str(user_id),
        "eid": str(event_id),
        "jti": str(uuid5(NAMESPACE_URL, f"admission:{event_id}:{user_id}:{admitted_us}")),
        "exp": int(expires_at.timestamp()),
    }
    return jwt.encode(
        claims, ring.signing_key, algorithm=ALGORITHM, headers={"kid": ring.signing_kid, "typ": TOKEN_TYPE}
    )


def _invalid() -> Forbidden:
    return Forbidden("This admission token is not valid for this account and event.", code="ADMISSION_INVALID")


def verify(token: str, *, user_id: UUID, event_id: UUID, now: datetime | None = None) -> None:
    """Raises 403 ADMISSION_EXPIRED or ADMISSION_INVALID unless `token` admits this account to this event now."""
    import jwt

    if len(token) > MAX_TOKEN_LENGTH:
        raise _invalid()
    ring = key_ring()
    try:
        header = jwt.get_unverified_header(token)
        public_key = ring.verifying_keys.get(str(header.get("kid")))
        if public_key is None or header.get("alg") != ALGORITHM or header.get("typ") != TOKEN_TYPE:
            raise _invalid()
        claims = jwt.decode(
            token,
            public_key,
            algorithms=[ALGORITHM],
            options={"require": ["sub", "eid", "jti", "exp"], "verify_exp": False},
        )
        subject, event = UUID(str(claims["sub"])), UUID(str(claims["eid"]))
        expires = int(claims["exp"])
    except (jwt.PyJWTError, ValueError, TypeError) as error:
        raise _invalid() from error
    if subject != user_id or event != event_id:
        raise _invalid()
    if expires <= (now or datetime.now(UTC)).timestamp():
        raise Forbidden("Your admission has expired; join the waiting room again.", code="ADMISSION_EXPIRED")


def warm_up() -> None:
    """Signs and verifies a throwaway admission: PyJWT, cryptography and the key ring loaded, as after a first
    request (run before a SnapStart snapshot)."""
    nobody = UUID(int=0)
    far = datetime(2999, 1, 1, tzinfo=UTC)
    verify(sign(nobody, nobody, 0, far), user_id=nobody, event_id=nobody, now=far.replace(year=2998))
