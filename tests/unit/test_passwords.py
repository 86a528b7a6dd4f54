"""Password rules: 8-72 bytes of UTF-8, bcrypt hashes."""

from __future__ import annotations

import pytest

from ticketing.auth.password_rules import password_length_problem
from ticketing.auth.passwords import hash_password, verify_password
from ticketing.config import Settings


def test_eight_bytes_is_enough() -> None:
    assert password_length_problem("12345678") is None


def test_seven_bytes_is_too_short() -> None:
    assert password_length_problem("1234567") is not None


def test_length_is_counted_in_bytes_not_characters() -> None:
    assert password_length_problem("€" * 24) is None  # 72 bytes
    assert password_length_problem("€" * 25) is not None  # 75 bytes


def test_a_hash_verifies_its_password_only(fresh_settings: pytest.MonkeyPatch) -> None:
    fresh_settings.setenv("DATABASE_URL", "postgresql://u@h/db")
    hashed = hash_password("correct horse")

    assert verify_password("correct horse", hashed)
    assert not verify_password("correct horsE", hashed)


def test_the_production_cost_is_twelve() -> None:
    assert Settings.model_fields["bcrypt_rounds"].default == 12
