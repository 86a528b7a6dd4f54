"""Ed25519 key rings: the one way ticket codes, admission tokens and access tokens get their keys.

Key text format (docs/tickets.md, docs/security.md): one or more PEM blocks. The first is the Ed25519 private
key that signs; further blocks (private or public keys) only verify, which is how a rotated-out key keeps what
it signed valid for an overlap window. A secret that holds no PEM at all (the random string CloudFormation
generates) is the seed of the key: SHA-256 of its text is the 32-byte Ed25519 private key. Every key is named
by its `kid`: the start of its RFC 7638 JWK thumbprint, so a `kid` can never name two different keys.

A verifier that must not hold any private key (every function but auth, for access tokens) reads a public key
set instead: PEM public keys only (`parse_public_keys`).

`cryptography` loads with the first key ring, not when this module is imported: only the functions that sign
or verify ship it (tests/contract/test_function_dependencies.py).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from ticketing.config import ConfigurationError, get_settings
from ticketing.observability import logger

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ALGORITHM = "EdDSA"
KID_LENGTH = 6

_PEM_BLOCK = re.compile(r"-----BEGIN ([A-Z ]+)-----.+?-----END \1-----", re.DOTALL)


@dataclass(frozen=True)
class KeyRing:
    signing_kid: str
    signing_key: Ed25519PrivateKey
    verifying_keys: dict[str, Ed25519PublicKey]

    def public_keys_pem(self) -> list[tuple[str, str]]:
        """(kid, SubjectPublicKeyInfo PEM) of every key that verifies, the signing key first."""
        return [(kid, public_key_pem(key)) for kid, key in self.verifying_keys.items()]


def public_key_pem(key: Ed25519PublicKey) -> str:
    from cryptography.hazmat.primitives import serialization

    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    return key.public_bytes(serialization.Encoding.PEM, spki).decode()


def key_id(public_key: Ed25519PublicKey) -> str:
    """The first KID_LENGTH characters of the key's JWK thumbprint (RFC 7638)."""
    from cryptography.hazmat.primitives import serialization

    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    x = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
    jwk = json.dumps({"crv": "Ed25519", "kty": "OKP", "x": x}, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(hashlib.sha256(jwk.encode()).digest()).decode()[:KID_LENGTH]


def generate_private_key_pem() -> str:
    """A new Ed25519 private key as PKCS#8 PEM (local development; `make run` keeps its keys under .local/)."""
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
        raise ConfigurationError("A signing key ring may only hold Ed25519 keys.")
    return key


def _parse_blocks(text: str) -> list[Ed25519PrivateKey | Ed25519PublicKey]:
    try:
        return [_parse_block(match.group(0)) for match in _PEM_BLOCK.finditer(text)]
    except ValueError as error:
        raise ConfigurationError(f"A signing key ring is not valid PEM: {error}") from error


@lru_cache(maxsize=8)
def parse_key_ring(text: str) -> KeyRing:
    """The key ring described by the format in the module docstring."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    keys = _parse_blocks(text)
    if not keys:
        if not text.strip():
            raise ConfigurationError("The signing key is empty.")
        keys = [Ed25519PrivateKey.from_private_bytes(hashlib.sha256(text.strip().encode()).digest())]
    signing = keys[0]
    if not isinstance(signing, Ed25519PrivateKey):
        raise ConfigurationError("The first key of a signing key ring must be a private key.")
    verifying: dict[str, Ed25519PublicKey] = {}
    for key in keys:
        public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
        verifying.setdefault(key_id(public), public)
    return KeyRing(signing_kid=key_id(signing.public_key()), signing_key=signing, verifying_keys=verifying)


@lru_cache(maxsize=8)
def parse_public_keys(text: str) -> dict[str, Ed25519PublicKey]:
    """kid → key for a set of PEM public keys; a private key here is a configuration error, because the
    functions given this set must not be able to sign."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    keys = _parse_blocks(text)
    if not keys:
        raise ConfigurationError("The public key set holds no PEM public key.")
    public_keys: dict[str, Ed25519PublicKey] = {}
    for key in keys:
        if not isinstance(key, Ed25519PublicKey):
            raise ConfigurationError("A public key set must hold public keys only, never a private key.")
        public_keys.setdefault(key_id(key), key)
    return public_keys


@lru_cache(maxsize=8)
def _process_key_text(variable: str) -> str:
    logger.warning(f"{variable} is not set: signing with a key generated for this process only")
    return generate_private_key_pem()


def load_key_ring(text: str | None, secret_arn: str | None, variable: str) -> KeyRing:
    """The key ring in `text`, else in the Secrets Manager secret `secret_arn` (read through Powertools
    Parameters and the bounded client, cached), else one generated for this process (`variable` names the
    setting in its warning)."""
    if text:
        return parse_key_ring(text)
    if secret_arn:
        # Imported here so functions that never sign or verify do not load boto3.
        from ticketing.aws_clients import get_secret

        secret = get_secret(secret_arn, max_age=get_settings().secrets_max_age_seconds)
        return parse_key_ring(str(secret))
    return parse_key_ring(_process_key_text(variable))
