"""Test session: a real PostgreSQL (DATABASE_URL's server, else an embedded one), migrated once.

Every test that touches data asks for `db` (or `api`, which implies it) and starts from empty tables.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import pytest

from ticketing.db import Session
from ticketing.signing_keys import parse_key_ring

REPO_ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = REPO_ROOT / "template.yaml"

# Settings are read lazily, on first use, so setting them here (before any test runs) is enough.
# Access tokens (docs/security.md): the private key ring only the auth function holds, and the public keys every
# function verifies with, as in AWS.
os.environ.setdefault("JWT_SIGNING_KEY", secrets.token_urlsafe(48))
os.environ.setdefault(
    "JWT_PUBLIC_KEYS", "".join(pem for _, pem in parse_key_ring(os.environ["JWT_SIGNING_KEY"]).public_keys_pem())
)
# A seed for the Ed25519 ticket key ring (docs/tickets.md), shared by every process the tests start.
os.environ.setdefault("TICKET_SIGNING_KEY", secrets.token_urlsafe(48))
# The same for the waiting room's admission tokens (docs/waiting-room.md), a key of their own.
os.environ.setdefault("ADMISSION_SIGNING_KEY", secrets.token_urlsafe(48))
os.environ.setdefault("BCRYPT_ROUNDS", "4")
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.setdefault("CORS_ALLOW_ORIGINS", "https://tickets.example.com,https://admin.example.com")
# Every test client calls from one address and many tests buy fast: the limits are off unless a test (tests/limits)
# turns them on. They apply only where the limit store (WAITING_ROOM_TABLE) is configured anyway.
os.environ.setdefault("RATE_LIMIT_ACCOUNT_PER_MINUTE", "0")
os.environ.setdefault("RATE_LIMIT_ADDRESS_PER_MINUTE", "0")
os.environ.setdefault("LOGIN_FAILURES_BEFORE_DELAY", "0")


@pytest.fixture
def fresh_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """Settings re-read from the environment this test sets up, and restored afterwards."""
    from ticketing.config import get_settings

    get_settings.cache_clear()
    yield monkeypatch
    monkeypatch.undo()
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """The test database as its owner (migrations, scratch databases, TRUNCATE); everything else, the functions
    and `db` included, connects as the application role through DATABASE_URL, so a missing grant fails a test
    (docs/security.md, "Database roles")."""
    from devtools.embedded_db import (
        application_role_url,
        embedded_server,
        scratch_database,
        wait_until_passwords_are_checked,
    )
    from ticketing.db.dsn import parse_database_url
    from ticketing.db.migrate import apply_migrations, enable_app_login

    with ExitStack() as stack:
        server_url = os.environ.get("DATABASE_URL")
        embedded = not server_url
        if not server_url:
            data_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="ticketing-test-"))) / "pgdata"
            server_url = stack.enter_context(embedded_server(data_dir, keep_data=False))
        url = stack.enter_context(scratch_database(server_url, "ticketing_test"))
        apply_migrations(parse_database_url(url))
        app_password = secrets.token_urlsafe(24)
        enable_app_login(app_password, parse_database_url(url))
        app_url = application_role_url(url, app_password)
        if embedded:
            wait_until_passwords_are_checked(app_url)
        os.environ["DATABASE_URL"] = app_url
        from ticketing.config import get_settings

        get_settings.cache_clear()
        yield url


class Database:
    """Direct SQL for Given steps and for asserting database state, as the application role."""

    def __init__(self, owner_url: str) -> None:
        self._owner_url = owner_url

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

    @contextmanager
    def as_owner(self) -> Iterator[Session]:
        """A transaction as the tables' owner, for what the application role may not do (TRUNCATE, ALTER TABLE)."""
        import pg8000.native

        from ticketing.db.dsn import parse_database_url

        connection = pg8000.native.Connection(**parse_database_url(self._owner_url).as_pg8000_kwargs())
        try:
            connection.run("BEGIN")
            yield Session(connection)
            connection.run("COMMIT")
        finally:
            connection.close()

    def empty_tables(self) -> None:
        tables = [
            row["tablename"]
            for row in self.rows(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'schema_migrations'"
            )
        ]
        with self.as_owner() as owner:
            owner.execute("TRUNCATE " + ", ".join(f'"{table}"' for table in tables) + " CASCADE")


@pytest.fixture
def db(database_url: str) -> Database:
    database = Database(database_url)
    database.empty_tables()
    return database


@pytest.fixture(scope="session")
def dynamodb(database_url: str) -> Iterator[str]:
    """moto's DynamoDB server (a child process, real boto3 calls) with the waiting room's table, which the rate
    limits share."""
    from devtools.local_dynamodb import dynamodb_server, use_local_dynamodb

    with dynamodb_server() as url:
        use_local_dynamodb(url, table=f"waiting-room-test-{secrets.token_hex(3)}")
        yield url


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
    from devtools.run_api import running_api

    with running_api(TEMPLATE) as base_url:
        yield base_url


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


class SeededEvent:
    """An event built directly in SQL (a Given step), with its event seat ids in seat-map order."""

    def __init__(self, event_id: str, venue_id: str, section_id: str, organizer_id: str, seat_ids: list[str]) -> None:
        self.id = event_id
        self.venue_id = venue_id
        self.section_id = section_id
        self.organizer_id = organizer_id
        self.seat_ids = seat_ids


class Catalog:
    """Builds venues, sections and events straight into the database for tests of other features."""

    def __init__(self, db: Database, accounts: Accounts) -> None:
        self._db = db
        self._accounts = accounts

    def event(
        self,
        *,
        rows: int = 2,
        seats_per_row: int = 5,
        price: int = 2500,
        currency: str = "EUR",
        status: str = "PUBLISHED",
        starts_in_hours: float = 24 * 30,
        sales_open: bool = True,
        max_tickets_per_user: int = 10,
        organizer_id: str | None = None,
    ) -> SeededEvent:
        organizer_id = organizer_id or self._accounts.create("ORGANIZER").id
        venue_id = str(
            self._db.value(
                "INSERT INTO venues (name, address, city, country, timezone)"
                " VALUES ('Test Hall', '1 Main St', 'Berlin', 'DE', 'Europe/Berlin') RETURNING id"
            )
        )
        section_id = str(
            self._db.value(
                "INSERT INTO sections (venue_id, name, rows, seats_per_row, default_price)"
                " VALUES (:venue, 'Stalls', :rows, :per_row, :price) RETURNING id",
                venue=venue_id,
                rows=rows,
                per_row=seats_per_row,
                price=price,
            )
        )
        self._db.execute(
            "INSERT INTO venue_seats (section_id, row_index, row_label, number)"
            " SELECT :section, r, chr(64 + r), n FROM generate_series(1, :rows) r, generate_series(1, :per_row) n",
            section=section_id,
            rows=rows,
            per_row=seats_per_row,
        )
        event_id = str(
            self._db.value(
                "INSERT INTO events (venue_id, organizer_id, title, category, status, starts_at, ends_at,"
                " sales_start_at, currency, max_tickets_per_user, published_at)"
                " VALUES (:venue, :organizer, 'Test Concert', 'CONCERT', :status,"
                " now() + make_interval(secs => :starts_in), now() + make_interval(secs => :starts_in + 7200),"
                " CASE WHEN :sales_open THEN now() - interval '1 hour' ELSE now() + interval '1 day' END,"
                " :currency, :max_tickets,"
                " CASE WHEN :status = 'DRAFT' THEN NULL ELSE now() - interval '1 hour' END) RETURNING id",
                venue=venue_id,
                organizer=organizer_id,
                status=status,
                starts_in=starts_in_hours * 3600,
                sales_open=sales_open,
                currency=currency,
                max_tickets=max_tickets_per_user,
            )
        )
        self._db.execute(
            "INSERT INTO event_sections (event_id, section_id, price) VALUES (:event, :section, :price)",
            event=event_id,
            section=section_id,
            price=price,
        )
        self._db.execute(
            "INSERT INTO event_seats (event_id, section_id, venue_seat_id)"
            " SELECT :event, :section, id FROM venue_seats WHERE section_id = :section",
            event=event_id,
            section=section_id,
        )
        seat_ids = [
            str(row["id"])
            for row in self._db.rows(
                "SELECT es.id FROM event_seats es JOIN venue_seats vs ON vs.id = es.venue_seat_id"
                " WHERE es.event_id = :event ORDER BY vs.row_index, vs.number",
                event=event_id,
            )
        ]
        return SeededEvent(event_id, venue_id, section_id, organizer_id, seat_ids)

    def booking(self, event: SeededEvent, user_id: str, *, status: str = "CONFIRMED", currency: str = "EUR") -> str:
        """A booking row without seats (subtotal 0), for features that only need one to exist."""
        return str(
            self._db.value(
                "INSERT INTO bookings (user_id, event_id, status, subtotal, total, currency, expires_at, confirmed_at)"
                " VALUES (:user, :event, :status, 0, 0, :currency, now() + interval '15 minutes',"
                " CASE WHEN :status = 'CONFIRMED' THEN now() END) RETURNING id",
                user=user_id,
                event=event.id,
                status=status,
                currency=currency,
            )
        )


@pytest.fixture
def catalog(db: Database, accounts: Accounts) -> Catalog:
    return Catalog(db, accounts)


@pytest.fixture
def statements(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every SQL statement any session of this process runs from now on, in order (clear it between steps).

    For guarantees of the form "a fixed number of statements whatever the size": set-based, never per row.
    """
    import pg8000.native

    ran: list[str] = []
    run = pg8000.native.Connection.run

    def counted(self: Any, sql: str, **params: Any) -> Any:
        ran.append(sql)
        return run(self, sql, **params)

    monkeypatch.setattr(pg8000.native.Connection, "run", counted)
    return ran
