"""bcrypt password hashing. bcrypt reads at most 72 bytes, so longer passwords are refused, not truncated."""

from __future__ import annotations

from functools import lru_cache

import bcrypt

from ticketing.auth.password_rules import MAX_PASSWORD_BYTES
from ticketing.config import get_settings


def hash_password(password: str) -> str:
    salt = bcrypt.gensalt(rounds=get_settings().bcrypt_rounds)
    return bcrypt.hashpw(password.encode("utf-8"), salt).decode("ascii")


def verify_password(password: str, password_hash: str) -> bool:
    """False, without hashing, for a password longer than bcrypt reads: it can never be the stored one."""
    encoded = password.encode("utf-8")
    if len(encoded) > MAX_PASSWORD_BYTES:
        return False
    return bcrypt.checkpw(encoded, password_hash.encode("ascii"))


def burn_password_check(password: str) -> None:
    """Spends the time of a real check, so an unknown email answers as slowly as a wrong password."""
    verify_password(password, _dummy_hash())


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return hash_password("not-a-real-password")
