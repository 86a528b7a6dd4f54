"""`make smoke URL=…` against the local runner over real HTTP: it passes on a working deployment, leaves nothing
live behind, and fails with exit code 1 and a report naming the broken step when a step breaks."""

from __future__ import annotations

import http.server
import io
import socket
import subprocess
import sys
import threading
from typing import Any

import pytest

from devtools.smoke import run_smoke
from devtools.smoke_checks import Options

pytestmark = pytest.mark.http

CUSTOMER_STEPS = ("health", "register", "login", "admission", "hold seat", "create booking", "pay", "cancel booking")


def _smoke(options: Options) -> tuple[int, str]:
    out = io.StringIO()
    exit_code = run_smoke(options, out=out)
    return exit_code, out.getvalue()


def _passed(report: str, step: str) -> bool:
    return any(line.split()[:1] == ["PASS"] and f" {step} " in line for line in report.splitlines())


def _smoke_users(db: Any) -> list[dict[str, Any]]:
    return db.rows("SELECT id FROM users WHERE email LIKE 'smoke-%'")


def test_the_smoke_test_buys_and_cancels_a_seat_of_an_event_on_sale_and_leaves_nothing_live(
    http_server: str, db: Any, catalog: Any
) -> None:
    # Given an event on sale (no waiting room), starting well after the cancellation cutoff
    event = catalog.event(rows=2, seats_per_row=5)

    # When the smoke test runs against the runner
    exit_code, report = _smoke(Options(url=http_server))

    # Then it passes, every step reported as passed
    assert exit_code == 0, report
    assert "SMOKE PASSED" in report
    for step in (*CUSTOMER_STEPS, "find event on sale", "log out"):
        assert _passed(report, step), (step, report)
    assert "FAIL" not in report
    # And its booking was paid, then cancelled and refunded; no seat stays held or booked; its session is revoked
    [user] = _smoke_users(db)
    bookings = db.rows("SELECT id, status, event_id FROM bookings WHERE user_id = :user", user=user["id"])
    assert [(str(row["event_id"]), row["status"]) for row in bookings] == [(event.id, "CANCELLED")]
    payments = db.rows("SELECT status FROM payments WHERE booking_id = :booking", booking=bookings[0]["id"])
    assert [row["status"] for row in payments] == ["REFUNDED"]
    assert (
        db.value("SELECT count(*) FROM event_seats WHERE event_id = :event AND status <> 'AVAILABLE'", event=event.id)
        == 0
    )
    assert (
        db.value("SELECT count(*) FROM refresh_tokens WHERE user_id = :user AND revoked_at IS NULL", user=user["id"])
        == 0
    )


def test_with_organizer_credentials_the_smoke_test_makes_its_own_event_and_cancels_it(
    http_server: str, db: Any, catalog: Any, accounts: Any
) -> None:
    # Given an organizer and a venue with seats (from a seeded event that is not on sale)
    catalog.event(rows=1, seats_per_row=4, sales_open=False)
    organizer = accounts.create("ORGANIZER")

    # When the smoke test runs with the organizer's credentials
    options = Options(url=http_server, organizer_email=organizer.email, organizer_password=organizer.password)
    exit_code, report = _smoke(options)

    # Then it passes, having created, published and finally cancelled its own event
    assert exit_code == 0, report
    for step in (*CUSTOMER_STEPS, "organizer login", "create event", "publish event", "cancel event"):
        assert _passed(report, step), (step, report)
    made = db.rows("SELECT id, status, organizer_id FROM events WHERE title LIKE 'Smoke test %'")
    assert [(row["status"], str(row["organizer_id"])) for row in made] == [("CANCELLED", organizer.id)]
    assert (
        db.value("SELECT count(*) FROM event_seats WHERE event_id = :e AND status <> 'AVAILABLE'", e=made[0]["id"]) == 0
    )


def test_a_wrong_organizer_password_fails_the_run_at_that_step_and_still_cleans_up(
    http_server: str, db: Any, catalog: Any, accounts: Any
) -> None:
    # Given an organizer whose password the operator mistyped
    catalog.event(rows=1, seats_per_row=4)
    organizer = accounts.create("ORGANIZER")
    events_before = db.value("SELECT count(*) FROM events")

    # When the smoke test runs with it
    options = Options(url=http_server, organizer_email=organizer.email, organizer_password="not-the-password")
    exit_code, report = _smoke(options)

    # Then it fails with exit code 1, naming the step, the status and the API's error code
    assert exit_code == 1, report
    [failed_line] = [line for line in report.splitlines() if line.lstrip().startswith("FAIL")]
    assert "organizer login" in failed_line
    assert "401" in failed_line
    assert "INVALID_CREDENTIALS" in failed_line
    assert "SMOKE FAILED: organizer login" in report
    # And no step after it ran, nothing was created, and the customer session it opened was closed
    assert not _passed(report, "create event")
    assert not _passed(report, "hold seat")
    assert db.value("SELECT count(*) FROM events") == events_before
    assert _passed(report, "log out")
    [user] = _smoke_users(db)
    assert (
        db.value("SELECT count(*) FROM refresh_tokens WHERE user_id = :user AND revoked_at IS NULL", user=user["id"])
        == 0
    )


def test_make_smoke_exits_1_with_a_clear_report_when_nothing_answers_at_the_url() -> None:
    # Given a loopback port nobody listens on (bound, never listening: connections are refused)
    with socket.socket() as reserved:
        reserved.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{reserved.getsockname()[1]}"

        # When the smoke command runs against it
        finished = subprocess.run(
            [sys.executable, "-m", "devtools.smoke", url, "--timeout", "5"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    # Then it exits 1 at the first step and says why
    assert finished.returncode == 1, finished.stdout + finished.stderr
    assert "FAIL  health" in finished.stdout
    assert "no answer" in finished.stdout
    assert "Connection refused" in finished.stdout
    assert "SMOKE FAILED: health" in finished.stdout


class _NotTheApi(http.server.BaseHTTPRequestHandler):
    """Some other web server (a wrong port, a login page): 200 with HTML for every path."""

    def do_GET(self) -> None:
        body = b"<html><body>Welcome</body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def test_a_url_that_is_not_the_api_fails_at_health_with_a_report_not_a_traceback() -> None:
    # Given a web server that answers HTML
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _NotTheApi)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        # When the smoke test runs against it
        exit_code, report = _smoke(Options(url=f"http://127.0.0.1:{server.server_address[1]}", timeout=5))
    finally:
        server.shutdown()
        server.server_close()

    # Then it fails at the first step, saying the answer was not what the API gives
    assert exit_code == 1
    [failed_line] = [line for line in report.splitlines() if line.lstrip().startswith("FAIL")]
    assert "health" in failed_line
    assert "200" in failed_line
    assert "unexpected answer: JSONDecodeError" in failed_line
    assert "SMOKE FAILED: health" in report
