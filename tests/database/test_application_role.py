"""The application role the functions connect as (migration 0024) may change rows, never the schema
(docs/security.md, "Database roles")."""

from __future__ import annotations

import os
from typing import Any

import pg8000.native
import pytest

from ticketing.db.dsn import parse_database_url
from ticketing.db.errors import sqlstate
from ticketing.db.migrate import APP_ROLE

INSUFFICIENT_PRIVILEGE = "42501"


def _as_application(sql: str) -> str | None:
    """Runs `sql` as the application role in a transaction that is rolled back; the SQLSTATE it failed with."""
    connection = pg8000.native.Connection(**parse_database_url(os.environ["DATABASE_URL"]).as_pg8000_kwargs())
    try:
        connection.run("BEGIN")
        connection.run(sql)
        return None
    except pg8000.native.DatabaseError as error:
        return sqlstate(error)
    finally:
        connection.run("ROLLBACK")
        connection.close()


def test_the_functions_connect_as_the_application_role(db: Any) -> None:
    assert db.value("SELECT current_user") == APP_ROLE


@pytest.mark.parametrize(
    "statement",
    [
        "DROP TABLE bookings",
        "ALTER TABLE bookings ADD COLUMN note text",
        "ALTER TABLE event_seats DISABLE TRIGGER event_seats_count_changes",
        "TRUNCATE users CASCADE",
        "CREATE TABLE stolen (data text)",
        "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1'",
        "DROP FUNCTION count_event_seat_changes() CASCADE",
        "INSERT INTO schema_migrations (version) VALUES ('9999_forged')",
    ],
)
def test_the_application_role_cannot_change_the_schema(db: Any, statement: str) -> None:
    assert _as_application("SELECT count(*) FROM bookings") is None  # the same connection may read

    refused = _as_application(statement)

    assert refused == INSUFFICIENT_PRIVILEGE
    assert db.value("SELECT count(*) FROM information_schema.columns WHERE column_name = 'note'") == 0


def test_the_application_role_is_no_superuser_and_owns_nothing(db: Any) -> None:
    role = db.rows(
        "SELECT rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls FROM pg_roles WHERE rolname = :r",
        r=APP_ROLE,
    )
    owned = db.value(
        "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = 'public' AND pg_get_userbyid(c.relowner) = :r",
        r=APP_ROLE,
    )

    assert role == [
        {
            "rolsuper": False,
            "rolcreatedb": False,
            "rolcreaterole": False,
            "rolreplication": False,
            "rolbypassrls": False,
        }
    ]
    assert owned == 0
