"""Ticket codes: Ed25519 JWS that verify with the key ring, refuse anything else, and survive key rotation."""

from __future__ import annotations

from uuid import uuid4

import pytest

from ticketing.config import ConfigurationError
from ticketing.errors import DomainError
from ticketing.signing_keys import generate_private_key_pem, parse_key_ring
from ticketing.tickets.codes import MAX_CODE_LENGTH, sign, verify


def _public_pem(private_pem: str) -> str:
    [(_, public_pem)] = parse_key_ring(private_pem).public_keys_pem()
    return public_pem


def test_a_code_names_its_ticket_and_event_and_fits_a_qr_code() -> None:
    ring = parse_key_ring(generate_private_key_pem())
    ticket_id, event_id = uuid4(), uuid4()

    code = sign(ticket_id, event_id, ring)

    claims = verify(code, ring)
    assert (claims.ticket_id, claims.event_id) == (ticket_id, event_id)
    assert len(code) <= MAX_CODE_LENGTH


def test_a_code_of_another_key_is_refused() -> None:
    ours, theirs = parse_key_ring(generate_private_key_pem()), parse_key_ring(generate_private_key_pem())

    with pytest.raises(DomainError) as refused:
        verify(sign(uuid4(), uuid4(), theirs), ours)

    assert refused.value.code == "INVALID_TICKET"


def test_after_rotation_new_codes_use_the_new_key_and_old_codes_still_verify() -> None:
    old_pem, new_pem = generate_private_key_pem(), generate_private_key_pem()
    before = parse_key_ring(old_pem)
    old_code = sign(uuid4(), uuid4(), before)

    # The new private key signs; the old key stays in the ring as its public half only.
    after = parse_key_ring(new_pem + _public_pem(old_pem))

    assert after.signing_kid != before.signing_kid
    assert list(after.verifying_keys) == [after.signing_kid, before.signing_kid]
    assert verify(old_code, after).ticket_id is not None
    assert verify(sign(uuid4(), uuid4(), after), after).event_id is not None


def test_a_random_seed_is_a_stable_key() -> None:
    seed = "x7PqGm2k4ZrT9wLs0aBc5dEf6gHi8jKl"

    assert parse_key_ring(seed).signing_kid == parse_key_ring(f"{seed}\n").signing_kid
    assert parse_key_ring(seed).signing_kid != parse_key_ring(seed + "y").signing_kid


@pytest.mark.parametrize(
    "ring_text",
    ["", "-----BEGIN PRIVATE KEY-----\nnot base64\n-----END PRIVATE KEY-----", "PUBLIC-FIRST"],
)
def test_a_key_ring_that_cannot_sign_is_a_configuration_error(ring_text: str) -> None:
    if ring_text == "PUBLIC-FIRST":
        ring_text = _public_pem(generate_private_key_pem())

    with pytest.raises(ConfigurationError):
        parse_key_ring(ring_text)
