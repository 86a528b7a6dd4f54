"""Ticket codes: a JWS compact serialization (RFC 7515) of `{tid, eid}`, signed with Ed25519 (`alg: EdDSA`).

PyJWT with `cryptography` takes about 0.2 s to import, a third of the function's cold start: they load with the
first key ring (the first code signed or verified), not when this module is imported, and with SnapStart before
the snapshot is taken (functions/tickets/app.py), so a restored environment has them already. The key ring
comes from TICKET_SIGNING_KEY, or the Secrets Manager secret
TICKET_SIGNING_KEY_ARN (read through Powertools Parameters, cached), or a key generated for this process.

Key text format (docs/tickets.md): one or more PEM blocks. The first is the Ed25519 private key that signs;
further blocks (private or public keys) only verify, which is how a rotated-out key keeps old codes valid.
A secret that holds no PEM at all (the random string CloudFormation generates) is the seed of the key:
SHA-256 of its text is the 32-byte Ed25519 private key.

A code is derived, not stored: Ed25519 signatures are deterministic, so the same ticket under the same key
always has the same code. Compactness matters (a QR code of at most 250 characters): no `typ` header, a
6-character `kid` (the start of the key's RFC 7638 thumbprint), and the payload's UUIDs in canonical form.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING
from uuid import UUID

from ticketing.config import ConfigurationError, get_settings
from ticketing.errors import ValidationFailed
from ticketing.observability import logger

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ALGORITHM = "EdDSA"
MAX_CODE_LENGTH = 250
KID_LENGTH = 6

_PEM_BLOCK = re.compile(r"-----BEGIN ([A-Z ]+)-----.+?-----END \1-----", re.DOTALL)


@dataclass(frozen=True)
class TicketClaims:
    """What a verified code names."""

    ticket_id: UUID
    event_id: UUID


@dataclass(frozen=True)
class KeyRing:
    signing_kid: str
    signing_key: Ed25519PrivateKey
    verifying_keys: dict[str, Ed25519PublicKey]

    def public_keys_pem(self) -> list[tuple[str, str]]:
        """(kid, SubjectPublicKeyInfo PEM) of every key that verifies, the signing key first."""
        from cryptography.hazmat.primitives import serialization

        spki = serialization.PublicFormat.SubjectPublicKeyInfo
        return [
            (kid, key.public_bytes(serialization.Encoding.PEM, spki).decode())
            for kid, key in self.verifying_keys.items()
        ]


def key_id(public_key: Ed25519PublicKey) -> str:
    """The first KID_LENGTH characters of the key's JWK thumbprint (RFC 7638)."""
    from cryptography.hazmat.primitives import serialization

    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    x = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
    jwk = json.dumps({"crv": "Ed25519", "kty": "OKP", "x": x}, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(hashlib.sha256(jwk.encode()).digest()).decode()[:KID_LENGTH]


def generate_private_key_pem() -> str:
    """A new Ed25519 private key as PKCS#8 PEM (local development; `make run` keeps one under .local/)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    return (
        Ed25519PrivateKey.generate()
        .private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        .decode()
    )


def _parse_block(block: str) -> Ed25519PrivateKey | Ed25519PublicKey:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

    data = block.encode()
    key = (
        serialization.load_pem_public_key(data)
        if "PUBLIC KEY" in block.split("-----")[1]
        else serialization.load_pem_private_key(data, password=None)
    )
    if not isinstance(key, Ed25519PrivateKey | Ed25519PublicKey):
        raise ConfigurationError("The ticket signing key ring may only hold Ed25519 keys.")
    return key


@lru_cache(maxsize=4)
def parse_key_ring(text: str) -> KeyRing:
    """The key ring described by TICKET_SIGNING_KEY's format (see the module docstring)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    blocks = [match.group(0) for match in _PEM_BLOCK.finditer(text)]
    if not blocks:
        if not text.strip():
            raise ConfigurationError("The ticket signing key is empty.")
        keys: list[Ed25519PrivateKey | Ed25519PublicKey] = [
            Ed25519PrivateKey.from_private_bytes(hashlib.sha256(text.strip().encode()).digest())
        ]
    else:
        try:
            keys = [_parse_block(block) for block in blocks]
        except ValueError as error:
            raise ConfigurationError(f"The ticket signing key ring is not valid PEM: {error}") from error
    signing = keys[0]
    if not isinstance(signing, Ed25519PrivateKey):
        raise ConfigurationError("The first key of the ticket signing key ring must be a private key.")
    verifying: dict[str, Ed25519PublicKey] = {}
    for key in keys:
        public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
        verifying.setdefault(key_id(public), public)
    return KeyRing(signing_kid=key_id(signing.public_key()), signing_key=signing, verifying_keys=verifying)


@lru_cache(maxsize=4)
def _process_key_text(variable: str) -> str:
    logger.warning(f"{variable} is not set: signing with a key generated for this process only")
    return generate_private_key_pem()


def load_key_ring(text: str | None, secret_arn: str | None, variable: str) -> KeyRing:
    """The key ring in `text`, else in the Secrets Manager secret `secret_arn` (read through Powertools
    Parameters, cached), else one generated for this process (`variable` names the setting in its warning).
    Ticket codes use TICKET_SIGNING_KEY's; admission tokens (ticketing.waiting_room.tokens) their own."""
    if text:
        return parse_key_ring(text)
    if secret_arn:
        # Imported here so functions that never sign or verify codes do not load boto3.
        from ticketing.aws_clients import get_secret

        secret = get_secret(secret_arn, max_age=get_settings().secrets_max_age_seconds)
        return parse_key_ring(str(secret))
    return parse_key_ring(_process_key_text(variable))


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
