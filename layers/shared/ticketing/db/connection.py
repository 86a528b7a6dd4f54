"""One lazily opened pg8000 connection per execution environment, and the transaction context manager.

Lambda runs one request at a time per execution environment, so one connection serves it. The local
runner and tests run several requests at once in one process, so the connection is per thread there:
the same code, and a thread per request is what a Lambda environment is.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

import pg8000.native
from pg8000.exceptions import DatabaseError, InterfaceError

from ticketing.config import get_settings
from ticketing.db.dsn import ConnectionParameters, connection_parameters
from ticketing.db.errors import is_login_refused, to_domain_error
from ticketing.errors import ServiceUnavailable

Row = dict[str, Any]

_local = threading.local()
# The standard logger: ticketing.observability sits above the database plumbing.
_logger = logging.getLogger(__name__)


class Session:
    """The statements of one transaction. Parameters are always bound (`:name`), never formatted in."""

    def __init__(self, connection: pg8000.native.Connection) -> None:
        self._connection = connection

    def rows(self, sql: str, **params: Any) -> list[Row]:
        result = self._connection.run(sql, **params)
        columns = [column["name"] for column in self._connection.columns or []]
        return [dict(zip(columns, row, strict=True)) for row in result or []]

    def row(self, sql: str, **params: Any) -> Row | None:
        found = self.rows(sql, **params)
        return found[0] if found else None

    def value(self, sql: str, **params: Any) -> Any:
        result = self._connection.run(sql, **params)
        return result[0][0] if result else None

    def execute(self, sql: str, **params: Any) -> int:
        """Runs a statement and answers how many rows it touched."""
        self._connection.run(sql, **params)
        return int(self._connection.row_count or 0)

    def sort_in_memory(self) -> None:
        """Lets the rest of this transaction sort and hash up to 64 MB per step in memory: statements over a
        stadium's worth of rows (250,000 seats, 50,000 bookings) would spill the default 4 MB to disk
        (EXPLAIN ANALYZE: "external merge")."""
        self._connection.run("SET LOCAL work_mem = '64MB'")


def _open_connection() -> pg8000.native.Connection:
    """A new connection. When the server refuses the password (28P01) of a secret we had cached, the secret was
    rotated since: it is read afresh once and the login tried again (docs/security.md, "Secret rotation")."""
    settings = get_settings()
    try:
        return _connect(connection_parameters(settings))
    except (InterfaceError, DatabaseError) as error:
        if not (settings.db_secret_arn and not settings.database_url and is_login_refused(error)):
            raise
    _logger.warning("database login refused with the cached secret; reading it again")
    return _connect(connection_parameters(settings, fresh_secret=True))


def _connect(params: ConnectionParameters) -> pg8000.native.Connection:
    settings = get_settings()
    return pg8000.native.Connection(
        **params.as_pg8000_kwargs(),
        application_name="ticketing",
        timeout=30,
        startup_params={"statement_timeout": str(settings.db_statement_timeout_ms), "TimeZone": "UTC"},
    )


def _connection() -> pg8000.native.Connection:
    connection: pg8000.native.Connection | None = getattr(_local, "connection", None)
    if connection is None:
        try:
            connection = _open_connection()
        except (InterfaceError, DatabaseError, OSError) as error:
            raise ServiceUnavailable("The database is not reachable right now; retry.") from error
        _local.connection = connection
    return connection


def close_connection() -> None:
    connection: pg8000.native.Connection | None = getattr(_local, "connection", None)
    _local.connection = None
    if connection is not None:
        with suppress(InterfaceError, DatabaseError, OSError):
            connection.close()


def _begin() -> pg8000.native.Connection:
    """BEGIN on the cached connection; a connection the server or network dropped is replaced once."""
    for attempt in (1, 2):
        connection = _connection()
        try:
            connection.run("BEGIN")
            return connection
        except (InterfaceError, DatabaseError, OSError) as error:
            close_connection()
            if attempt == 2:
                raise ServiceUnavailable("The database is not reachable right now; retry.") from error
    raise AssertionError("unreachable")


def in_transaction() -> bool:
    """Whether this thread is inside `transaction()`: external calls that must not run under row locks
    (payment refunds, docs/refunds.md) check it."""
    return bool(getattr(_local, "in_transaction", False))


@contextmanager
def transaction() -> Iterator[Session]:
    """One explicit transaction: commits when the block succeeds, rolls back on any exception.

    Database errors leave as domain errors (see ticketing.db.errors); any other error is re-raised. Inside
    `unit_of_work()` it joins that transaction as a savepoint instead (rolled back alone when it fails).
    """
    outer: Session | None = getattr(_local, "unit_of_work", None)
    if outer is not None:
        with _savepoint(outer) as session:
            yield session
        return
    connection = _begin()
    _local.in_transaction = True
    try:
        yield Session(connection)
        connection.run("COMMIT")
    except DatabaseError as error:
        _rollback(connection)
        domain_error = to_domain_error(error)
        if domain_error is None:
            raise
        raise domain_error from error
    except (InterfaceError, OSError) as error:
        close_connection()
        raise ServiceUnavailable("The database connection was lost; retry.") from error
    except BaseException:
        _rollback(connection)
        raise
    finally:
        _local.in_transaction = False


@contextmanager
def unit_of_work() -> Iterator[Session]:
    """One transaction that every `transaction()` opened inside the block joins, so their work and what the
    block itself writes commit together or not at all (an idempotent answer with the work it answers for:
    ticketing.http.idempotency). No external call may run inside it, as inside any transaction."""
    with transaction() as session:
        _local.unit_of_work = session
        try:
            yield session
        finally:
            _local.unit_of_work = None


@contextmanager
def _savepoint(session: Session) -> Iterator[Session]:
    connection = session._connection
    connection.run("SAVEPOINT joined")
    try:
        yield session
        connection.run("RELEASE SAVEPOINT joined")
    except DatabaseError as error:
        connection.run("ROLLBACK TO SAVEPOINT joined")
        domain_error = to_domain_error(error)
        if domain_error is None:
            raise
        raise domain_error from error
    except BaseException:
        connection.run("ROLLBACK TO SAVEPOINT joined")
        raise


def _rollback(connection: pg8000.native.Connection) -> None:
    try:
        connection.run("ROLLBACK")
    except (InterfaceError, DatabaseError, OSError):
        close_connection()
