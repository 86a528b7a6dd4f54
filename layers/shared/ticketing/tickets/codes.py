"""Ticket codes: a JWS compact serialization (RFC 7515) of `{tid, eid}`, signed with Ed25519 (`alg: EdDSA`).

PyJWT with `cryptography` takes about 0.2 s to import, a third of the function's cold start: they load with the
first key ring (the first code signed or verified), not when this module is imported, and with SnapStart before
the snapshot is taken (functions/tickets/app.py), so a restored environment has them already. The key ring
comes from TICKET_SIGNING_KEY, or the Secrets Manager secret TICKET_SIGNING_KEY_ARN (read through Powertools
Parameters, cached), or a key generated for this process; its format and rotation are ticketing.signing_keys'.

A code is derived, not stored: Ed25519 signatures are deterministic, so the same ticket under the same key
always has the same code. Compactness matters (a QR code of at most 250 characters): no `typ` header, a
6-character `kid` (the start of the key's RFC 7638 thumbprint), and the payload's UUIDs in canonical form.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from ticketing.config import get_settings
from ticketing.errors import ValidationFailed
from ticketing.signing_keys import ALGORITHM, KeyRing, load_key_ring

MAX_CODE_LENGTH = 250


@dataclass(frozen=True)
class TicketClaims:
    """What a verified code names."""

    ticket_id: UUID
    event_id: UUID


def key_ring() -> KeyRing:
    settings = get_settings()
    return load_key_ring(settings.ticket_signing_key, settings.ticket_signing_key_arn, "TICKET_SIGNING_KEY")


def sign(ticket_id: UUID, event_id: UUID, ring: KeyRing | None = None) -> str:
    import jwt

    ring = ring or key_ring()
    return jwt.encode(
        {"tid": str(ticket_id), "eid": str(event_id)},
        ring.signing_key,
        algorithm=ALGORITHM,
        headers={"kid": ring.signing_kid, "typ": None},
    )


def invalid_ticket() -> ValidationFailed:
    return ValidationFailed("This is not a ticket code we issued.", code="INVALID_TICKET")


def verify(code: str, ring: KeyRing | None = None) -> TicketClaims:
    """The ticket and event a code names; INVALID_TICKET when it is forged, altered, malformed or unknown."""
    import jwt

    ring = ring or key_ring()
    if len(code) > 4 * MAX_CODE_LENGTH:
        raise invalid_ticket()
    try:
        header = jwt.get_unverified_header(code)
        public_key = ring.verifying_keys.get(str(header.get("kid")))
        if public_key is None or header.get("alg") != ALGORITHM:
            raise invalid_ticket()
        claims = jwt.decode(code, public_key, algorithms=[ALGORITHM], options={"require": ["tid", "eid"]})
        return TicketClaims(ticket_id=UUID(str(claims["tid"])), event_id=UUID(str(claims["eid"])))
    except (jwt.PyJWTError, ValueError, TypeError) as error:
        raise invalid_ticket() from error


def warm_up() -> None:
    """Signs and verifies a throwaway code: PyJWT, cryptography and the key ring loaded, as after a first
    request (run before a SnapStart snapshot)."""
    verify(sign(UUID(int=0), UUID(int=0)))
