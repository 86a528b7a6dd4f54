"""Access tokens: EdDSA JWS that only the current private key can make, verified with public keys alone, and
rotated by `kid` with an overlap window (docs/security.md, "Tokens")."""

from __future__ import annotations

from collections.abc import Callable
from uuid import uuid4

import jwt
import pytest

from tests.access_tokens import access_claims, signed
from ticketing.auth.principal import Principal, Role
from ticketing.auth.tokens import issue_access_token, verify_access_token
from ticketing.config import ConfigurationError, get_settings
from ticketing.errors import Unauthorized
from ticketing.signing_keys import KeyRing, generate_private_key_pem, parse_key_ring, parse_public_keys


def _public_keys(*rings: KeyRing) -> str:
    return "".join(pem for ring in rings for _, pem in ring.public_keys_pem())


@pytest.fixture
def trust(fresh_settings: pytest.MonkeyPatch) -> Callable[..., None]:
    """Makes this process a function that holds no private key, only the public keys of `rings`."""
    fresh_settings.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:9/unused")
    fresh_settings.delenv("JWT_SIGNING_KEY", raising=False)

    def holding_public_keys_of(*rings: KeyRing) -> None:
        fresh_settings.setenv("JWT_PUBLIC_KEYS", _public_keys(*rings))
        get_settings.cache_clear()

    return holding_public_keys_of


@pytest.fixture
def verifier(trust: Callable[..., None]) -> KeyRing:
    """A function that holds only the public key of the current signing ring (as every function but auth)."""
    current = parse_key_ring(generate_private_key_pem())
    trust(current)
    return current


def test_a_token_from_the_current_private_key_verifies_with_the_public_key_alone(verifier: KeyRing) -> None:
    principal = Principal(user_id=uuid4(), role=Role.ORGANIZER)

    token = issue_access_token(principal, verifier)

    assert jwt.get_unverified_header(token) == {"alg": "EdDSA", "kid": verifier.signing_kid, "typ": "at+jwt"}
    assert verify_access_token(token) == principal


def _forgeries(current: KeyRing) -> dict[str, str]:
    claims = access_claims(str(uuid4()), role="ADMIN")
    other = parse_key_ring(generate_private_key_pem())
    header, _, signature = signed(claims, current).split(".")
    altered_payload = signed(claims | {"sub": str(uuid4())}, current).split(".")[1]
    return {
        "the old HS256 secret": jwt.encode(claims, "the-old-hs256-secret-" * 3, algorithm="HS256"),
        "HS256 keyed with the public key": jwt.encode(
            claims, "x" * 32, algorithm="HS256", headers={"kid": current.signing_kid, "typ": "at+jwt"}
        ),
        "another Ed25519 key": signed(claims, other),
        "another Ed25519 key under our kid": signed(claims, other, kid=current.signing_kid),
        "alg none": jwt.encode(claims, None, algorithm="none", headers={"kid": current.signing_kid, "typ": "at+jwt"}),  # type: ignore[arg-type]
        "our key under a kid we do not know": signed(claims, current, kid="nokey1"),
        "no typ header": signed(claims, current, typ=None),
        "an altered payload": f"{header}.{altered_payload}.{signature}",
    }


@pytest.mark.parametrize(
    "forgery",
    [
        "the old HS256 secret",
        "HS256 keyed with the public key",
        "another Ed25519 key",
        "another Ed25519 key under our kid",
        "alg none",
        "our key under a kid we do not know",
        "no typ header",
        "an altered payload",
    ],
)
def test_a_token_signed_with_anything_but_the_current_private_key_is_refused(verifier: KeyRing, forgery: str) -> None:
    token = _forgeries(verifier)[forgery]

    with pytest.raises(Unauthorized) as refused:
        verify_access_token(token)

    assert refused.value.code == "UNAUTHORIZED"


def test_a_rotated_out_key_verifies_within_the_overlap_and_is_refused_after_it(trust: Callable[..., None]) -> None:
    old, new = parse_key_ring(generate_private_key_pem()), parse_key_ring(generate_private_key_pem())
    user = Principal(user_id=uuid4(), role=Role.USER)
    trust(old)
    issued_before_rotation = issue_access_token(user, old)
    assert verify_access_token(issued_before_rotation) == user

    # Overlap: the verifiers hold both public keys; the auth function signs with the new key only.
    trust(new, old)
    issued_after_rotation = issue_access_token(user, new)
    assert verify_access_token(issued_before_rotation) == user
    assert verify_access_token(issued_after_rotation) == user

    # After the overlap the old public key is gone: what it signed is refused, the new key's tokens still verify.
    trust(new)
    with pytest.raises(Unauthorized):
        verify_access_token(issued_before_rotation)
    assert verify_access_token(issued_after_rotation) == user


def test_the_auth_key_ring_signs_with_its_first_key_and_verifies_with_all_during_the_overlap() -> None:
    old_pem, new_pem = generate_private_key_pem(), generate_private_key_pem()
    old, new = parse_key_ring(old_pem), parse_key_ring(new_pem)

    rotated = parse_key_ring(new_pem + _public_keys(old))

    assert rotated.signing_kid == new.signing_kid
    assert set(rotated.verifying_keys) == {new.signing_kid, old.signing_kid}


def test_a_private_key_in_the_public_key_set_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="public keys only"):
        parse_public_keys(generate_private_key_pem())


def test_the_one_line_public_keys_ops_pass_as_a_parameter_verify_what_the_ring_signs(
    trust: Callable[..., None], fresh_settings: pytest.MonkeyPatch
) -> None:
    from devtools.jwt_keys import public_keys_line

    seed = "a-random-seed-as-cloudformation-generates-it"  # what the JwtSigningKey secret holds at first
    ring = parse_key_ring(seed)
    user = Principal(user_id=uuid4(), role=Role.USER)
    fresh_settings.setenv("JWT_PUBLIC_KEYS", public_keys_line(seed))
    get_settings.cache_clear()

    assert "\n" not in public_keys_line(seed)
    assert verify_access_token(issue_access_token(user, ring)) == user
