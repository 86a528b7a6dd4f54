"""Test session: a real PostgreSQL (DATABASE_URL's server, else an embedded one), migrated once.

Every test that touches data asks for `db` (or `api`, which implies it) and starts from empty tables.
"""

from __future__ import annotations

import os
import secrets
import tempfile
import threading
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = REPO_ROOT / "template.yaml"

# Settings are read lazily, on first use, so setting them here (before any test runs) is enough.
os.environ.setdefault("JWT_SECRET", secrets.token_urlsafe(48))
os.environ.setdefault("BCRYPT_ROUNDS", "4")
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.setdefault("CORS_ALLOW_ORIGINS", "https://tickets.example.com,https://admin.example.com")


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    from devtools.embedded_db import embedded_server, scratch_database

    with ExitStack() as stack:
        server_url = os.environ.get("DATABASE_URL")
        if not server_url:
            data_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="ticketing-test-"))) / "pgdata"
            server_url = stack.enter_context(embedded_server(data_dir, keep_data=False))
        url = stack.enter_context(scratch_database(server_url, "ticketing_test"))
        os.environ["DATABASE_URL"] = url
        from ticketing.config import get_settings
        from ticketing.db.migrate import apply_migrations

        get_settings.cache_clear()
        apply_migrations()
        yield url


class Database:
    """Direct SQL for Given steps and for asserting database state."""

    def rows(self, sql: str, **params: Any) -> list[dict[str, Any]]:
        from ticketing.db import transaction

        with transaction() as tx:
            return tx.rows(sql, **params)

    def value(self, sql: str, **params: Any) -> Any:
        from ticketing.db import transaction

        with transaction() as tx:
            return tx.value(sql, **params)

    def execute(self, sql: str, **params: Any) -> int:
        from ticketing.db import transaction

        with transaction() as tx:
            return tx.execute(sql, **params)


@pytest.fixture
def db(database_url: str) -> Database:
    database = Database()
    tables = [
        row["tablename"]
        for row in database.rows(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'schema_migrations'"
        )
    ]
    database.execute("TRUNCATE " + ", ".join(f'"{table}"' for table in tables) + " CASCADE")
    return database


@pytest.fixture(scope="session")
def in_process_api(database_url: str) -> Any:
    from devtools.api_client import InProcessApi

    return InProcessApi(TEMPLATE)


@pytest.fixture
def api(db: Database, in_process_api: Any) -> Any:
    """The API invoked in-process with API Gateway proxy events built from template.yaml."""
    return in_process_api


@pytest.fixture(scope="session")
def http_server(database_url: str) -> Iterator[str]:
    """The local runner serving template.yaml on a free loopback port."""
    from devtools.sam_template import load_template
    from devtools.server import create_server

    server = create_server(load_template(TEMPLATE), "127.0.0.1", 0, request_log=lambda line: None)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    host, port = server.server_address[:2]
    yield f"http://{host}:{port}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def http_api(db: Database, http_server: str) -> Any:
    from devtools.api_client import HttpApi

    return HttpApi(http_server)


class Account:
    """A registered user with a live session."""

    def __init__(self, user: dict[str, Any], password: str, access_token: str, refresh_token: str) -> None:
        self.id: str = user["id"]
        self.email: str = user["email"]
        self.role: str = user["role"]
        self.password = password
        self.token = access_token
        self.refresh_token = refresh_token


class Accounts:
    def __init__(self, api: Any, db: Database) -> None:
        self._api = api
        self._db = db
        self._count = 0

    def create(self, role: str = "USER", *, email: str | None = None, password: str = "correct-horse-9") -> Account:
        self._count += 1
        email = email or f"user{self._count}-{secrets.token_hex(3)}@example.com"
        registered = self._api.post(
            "/api/auth/register", json={"email": email, "password": password, "name": f"User {self._count}"}
        )
        assert registered.status == 201, registered.body
        if role != "USER":
            self._db.execute("UPDATE users SET role = :role WHERE lower(email) = lower(:email)", role=role, email=email)
        session = self._api.post("/api/auth/login", json={"email": email, "password": password})
        assert session.status == 200, session.body
        body = session.json()
        return Account(body["user"], password, body["accessToken"], body["refreshToken"])


@pytest.fixture
def accounts(api: Any, db: Database) -> Accounts:
    return Accounts(api, db)
