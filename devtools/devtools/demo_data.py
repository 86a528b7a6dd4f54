"""Demo data for `make run`: loading it twice changes nothing."""

from __future__ import annotations

import os

from ticketing.auth.passwords import hash_password
from ticketing.db import transaction

DEMO_ACCOUNTS = (
    ("admin@example.com", "Ada Admin", "ADMIN"),
    ("organizer@example.com", "Olga Organizer", "ORGANIZER"),
    ("customer@example.com", "Carl Customer", "USER"),
)


def load_demo_data() -> None:
    password_hash = hash_password(os.environ.get("DEMO_PASSWORD", "demo-password"))
    with transaction() as tx:
        for email, name, role in DEMO_ACCOUNTS:
            tx.execute(
                "INSERT INTO users (email, password_hash, name, role) VALUES (:email, :hash, :name, :role)"
                " ON CONFLICT (lower(email)) DO NOTHING",
                email=email,
                hash=password_hash,
                name=name,
                role=role,
            )
