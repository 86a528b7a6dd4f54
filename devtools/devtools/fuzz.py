"""`make fuzz`: schemathesis against the local runner, on a fresh database with demo data and an ADMIN token.

Runs the coverage and fuzzing phases with the checks docs/api-errors.md promises (no 5xx; status codes,
content types and bodies as the served /api/openapi.json documents them) and exits non-zero on any finding.

    python -m devtools.fuzz --max-time 180          # CI's budget
    python -m devtools.fuzz --max-time 1200 -- ...  # a longer run; arguments after -- go to `st run`
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from types import FrameType
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = REPO_ROOT / "template.yaml"
CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"
PHASES = "coverage,fuzzing"
# How often a generated path id or body id is one that exists (the rest stay random, to reach the 404s).
KNOWN_ID_PROBABILITY = 0.7
UNEXPECTED_METHODS = ["GET", "PUT", "POST", "DELETE", "OPTIONS", "PATCH", "TRACE"]


@contextmanager
def fresh_database() -> Iterator[str]:
    """A scratch database on DATABASE_URL's server, else on an embedded server started for this run."""
    from devtools.embedded_db import embedded_server, scratch_database

    with ExitStack() as stack:
        server_url = os.environ.get("DATABASE_URL")
        if not server_url:
            data_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="ticketing-fuzz-"))) / "pgdata"
            server_url = stack.enter_context(embedded_server(data_dir, keep_data=False))
        yield stack.enter_context(scratch_database(server_url, "ticketing_fuzz"))


def _prepare(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("JWT_SIGNING_KEY", secrets.token_urlsafe(48))
    os.environ.setdefault("BCRYPT_ROUNDS", "4")
    # The admin token must outlive the longest run.
    os.environ.setdefault("ACCESS_TOKEN_TTL_SECONDS", str(24 * 3600))
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "CRITICAL")
    from ticketing.config import get_settings
    from ticketing.db.migrate import apply_migrations

    get_settings.cache_clear()
    apply_migrations()
    from devtools.demo_data import load_demo_data

    load_demo_data()
    _admin_booking()


def _admin_token(base_url: str) -> str:
    credentials = {"email": "admin@example.com", "password": os.environ.get("DEMO_PASSWORD", "demo-password")}
    request = urllib.request.Request(  # noqa: S310 - our own loopback server
        f"{base_url}/api/auth/login",
        data=json.dumps(credentials).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
        token: str = json.load(answer)["accessToken"]
    return token


def _admin_booking() -> None:
    """A PENDING booking of the admin on the demo event, so booking paths have an id that exists."""
    from ticketing.auth.principal import Principal, Role
    from ticketing.bookings import holds, service
    from ticketing.bookings.models import CreateBookingRequest, HoldRequest
    from ticketing.db import transaction

    with transaction() as tx:
        admin = tx.value("SELECT id FROM users WHERE role = 'ADMIN' ORDER BY created_at LIMIT 1")
        seat = tx.rows(
            "SELECT es.event_id, es.id FROM event_seats es JOIN events e ON e.id = es.event_id"
            " WHERE e.status = 'PUBLISHED' AND es.status = 'AVAILABLE' ORDER BY es.id LIMIT 1"
        )
    if admin is None or not seat:
        return
    principal = Principal(user_id=admin, role=Role.ADMIN)
    event_id, seat_id = seat[0]["event_id"], seat[0]["id"]
    holds.place_hold(principal, HoldRequest(event_id=event_id, seat_ids=[seat_id]))
    service.create_booking(principal, CreateBookingRequest(event_id=event_id))


def _known_ids() -> dict[str, list[str]]:
    from ticketing.db import transaction

    with transaction() as tx:

        def ids(sql: str) -> list[str]:
            return [str(row["id"]) for row in tx.rows(sql)]

        return {
            "events": ids("SELECT id FROM events ORDER BY id"),
            "venues": ids("SELECT id FROM venues ORDER BY id"),
            "sections": ids("SELECT id FROM sections ORDER BY id"),
            "seats": ids("SELECT id FROM event_seats ORDER BY id LIMIT 50"),
            "bookings": ids("SELECT id FROM bookings ORDER BY id"),
        }


def _config(known: dict[str, list[str]]) -> str:
    """schemathesis.toml: existing ids offered for path and body ids, with the probability above."""
    bindings = {
        "path.event_id": "events",
        "path.venue_id": "venues",
        "path.booking_id": "bookings",
        "query.eventId": "events",
        "query.venueId": "venues",
        "query.sectionId": "sections",
        "body.eventId": "events",
        "body.venueId": "venues",
        "body.seatIds[*]": "seats",
        "body.prices[*].sectionId": "sections",
    }
    lines = []
    for name, values in known.items():
        if values:
            lines += [f"[dictionaries.{name}]", f"values = {json.dumps(values)}", ""]
    lines += ["[phases.coverage]", f"unexpected-methods = {json.dumps(UNEXPECTED_METHODS)}", ""]
    lines.append("[parameters]")
    lines += [
        f'"{key}" = {{ dictionary = "{name}", probability = {KNOWN_ID_PROBABILITY} }}'
        for key, name in bindings.items()
        if known.get(name)
    ]
    return "\n".join(lines) + "\n"


def run(max_time: int, workers: int, extra: list[str]) -> int:
    from devtools.run_api import running_api

    schemathesis = shutil.which("st", path=str(Path(sys.executable).parent)) or "st"
    with fresh_database() as database_url, tempfile.TemporaryDirectory(prefix="ticketing-fuzz-") as work:
        _prepare(database_url)
        config = Path(work) / "schemathesis.toml"
        config.write_text(_config(_known_ids()), encoding="utf-8")
        with running_api(TEMPLATE) as base_url:
            command = [
                schemathesis,
                "--config-file",
                str(config),
                "run",
                f"{base_url}/api/openapi.json",
                "--url",
                base_url,
                "--checks",
                CHECKS,
                "--phases",
                PHASES,
                "--max-time",
                str(max_time),
                "--workers",
                str(workers),
                "--header",
                f"Authorization: Bearer {_admin_token(base_url)}",
                "--request-timeout",
                "30",
                "--suppress-health-check",
                "too_slow,filter_too_much",
                *extra,
            ]
            print("fuzzing", base_url, "for at most", max_time, "s", flush=True)
            return subprocess.run(command, check=False, cwd=work).returncode  # noqa: S603


def _exit_on_signal(signum: int, frame: FrameType | None) -> None:
    # SystemExit unwinds the context managers: the runner and the embedded PostgreSQL stop with us.
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> None:
    for stop in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(stop, _exit_on_signal)
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--max-time", type=int, default=180, help="seconds (make fuzz: FUZZ_SECONDS)")
    # Each function runs in its own worker processes (docs/local-runner.md), so requests may overlap.
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("extra", nargs="*", help="passed on to `st run` (after --)")
    arguments: Any = parser.parse_args(argv)
    sys.exit(run(arguments.max_time, arguments.workers, arguments.extra))


if __name__ == "__main__":
    main()
