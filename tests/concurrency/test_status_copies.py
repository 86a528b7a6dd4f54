"""A booking's status change and a write of its status copy, in two transactions at once, serialise: the copy
never ends up different from its booking (docs/booking-lifecycle.md, "Invariants the database enforces")."""

from __future__ import annotations

import threading
import time
from typing import Any

import pg8000.native
from pg8000.exceptions import DatabaseError

from ticketing.db.dsn import parse_database_url

_WAIT_POLLS = 500


def _connect(url: str) -> pg8000.native.Connection:
    return pg8000.native.Connection(**parse_database_url(url).as_pg8000_kwargs())


def _pending_booking(db: Any, event: Any) -> str:
    booking = db.value(
        "INSERT INTO bookings (user_id, event_id, status, subtotal, total, currency, expires_at)"
        " VALUES (:user, :event, 'PENDING', 0, 0, 'EUR', now() + interval '15 minutes') RETURNING id",
        user=event.organizer_id,
        event=event.id,
    )
    return str(booking)


def _wait_until_blocked(db: Any, pid: int) -> None:
    for _ in range(_WAIT_POLLS):
        if db.value("SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = :pid", pid=pid):
            return
        time.sleep(0.01)
    raise AssertionError("the writer never waited for the status change")


def test_an_item_written_while_its_booking_ends_is_refused_once_the_end_commits(
    db: Any, catalog: Any, database_url: str
) -> None:
    event = catalog.event()
    booking = _pending_booking(db, event)
    ender, writer = _connect(database_url), _connect(database_url)
    outcome: dict[str, Any] = {}
    try:
        ender.run("BEGIN")
        ender.run("UPDATE bookings SET status = 'EXPIRED', expired_at = now() WHERE id = :id", id=booking)
        writer_pid = writer.run("SELECT pg_backend_pid()")[0][0]

        def write_item() -> None:
            try:
                writer.run(
                    "INSERT INTO booking_items (booking_id, booking_status, event_seat_id, price)"
                    " VALUES (:booking, 'PENDING', :seat, 0)",
                    booking=booking,
                    seat=event.seat_ids[0],
                )
            except DatabaseError as error:
                outcome["code"] = error.args[0]["C"]

        thread = threading.Thread(target=write_item)
        thread.start()
        _wait_until_blocked(db, writer_pid)
        ender.run("COMMIT")
        thread.join(timeout=60)
    finally:
        ender.close()
        writer.close()

    assert outcome == {"code": "23503"}
    assert db.value("SELECT count(*) FROM booking_items") == 0
