"""How long a password may be, in UTF-8 bytes: bcrypt reads at most 72, so longer ones are refused, not truncated.

Kept apart from the hashing (passwords.py) so that models validating a password do not load bcrypt.
"""

from __future__ import annotations

MIN_PASSWORD_BYTES = 8
MAX_PASSWORD_BYTES = 72


def password_length_problem(password: str) -> str | None:
    size = len(password.encode("utf-8"))
    if size < MIN_PASSWORD_BYTES:
        return f"Password must be at least {MIN_PASSWORD_BYTES} bytes."
    if size > MAX_PASSWORD_BYTES:
        return f"Password must be at most {MAX_PASSWORD_BYTES} bytes (UTF-8)."
    return None
