"""Many gates at once against the real PostgreSQL: every ticket is admitted exactly once.

Each gate is a thread with its own database connection (what a Lambda execution environment has), calling
the check-in service directly; a barrier releases them together so the scans really overlap.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from ticketing.auth.principal import Principal, Role
from ticketing.db.connection import close_connection
from ticketing.errors import DomainError
from ticketing.tickets import check_in
from ticketing.tickets.models import CheckInBatch, CheckInRequest

pytestmark = pytest.mark.concurrency

GATES = 16


def _at_once[T](calls: list[Callable[[], T]]) -> list[T | str]:
    """Runs the calls in one thread each, released together; a domain error answers its code."""
    start = threading.Barrier(len(calls))

    def run(call: Callable[[], T]) -> T | str:
        start.wait(timeout=30)
        try:
            return call()
        except DomainError as error:
            return error.code
        finally:
            close_connection()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls, timeout=60))


def test_one_ticket_scanned_at_many_gates_at_once_is_admitted_once(
    box_office: Any, accounts: Any, organizer: Any, event: Any, db: Any
) -> None:
    [ticket] = box_office.buy(accounts.create(), event, event.seat_ids[:1]).tickets
    gate = Principal(UUID(organizer.id), Role.ORGANIZER)
    scans = [CheckInRequest(code=ticket["code"], scan_id=f"gate-{n}") for n in range(GATES)]

    answers = _at_once([lambda scan=scan: check_in.check_in(gate, UUID(event.id), scan) for scan in scans])

    admitted = [answer for answer in answers if not isinstance(answer, str)]
    assert len(admitted) == 1, answers
    assert sorted(answer for answer in answers if isinstance(answer, str)) == ["ALREADY_CHECKED_IN"] * (GATES - 1)
    [row] = db.rows("SELECT status, check_in_scan_id FROM tickets")
    assert row["status"] == "CHECKED_IN"
    assert row["check_in_scan_id"] in {scan.scan_id for scan in scans}
    assert db.value("SELECT count(*) FROM outbox_events WHERE event_type = 'TicketCheckedIn'") == 1


def test_overlapping_batches_admit_each_ticket_once_without_deadlock(
    box_office: Any, accounts: Any, organizer: Any, event: Any, db: Any
) -> None:
    tickets = box_office.buy(accounts.create(), event, event.seat_ids[:8]).tickets
    gate = Principal(UUID(organizer.id), Role.ORGANIZER)
    scanned_at = datetime.now(UTC) - timedelta(minutes=5)
    batches = [
        CheckInBatch.model_validate(
            {
                "scans": [
                    {"code": t["code"], "scanId": f"g{g}-{i}", "scannedAt": scanned_at.isoformat()}
                    for i, t in enumerate(tickets[::1] if g % 2 else tickets[::-1])
                ]
            }
        )
        for g in range(GATES // 2)
    ]

    answers = _at_once([lambda batch=batch: check_in.check_in_batch(gate, UUID(event.id), batch) for batch in batches])

    assert all(not isinstance(answer, str) for answer in answers), answers
    wins = sum(result.status == 200 for answer in answers if not isinstance(answer, str) for result in answer.results)
    assert wins == len(tickets)
    assert db.rows("SELECT status, count(*) AS n FROM tickets GROUP BY status") == [{"status": "CHECKED_IN", "n": 8}]


def test_an_online_scan_never_replaces_a_check_in_committed_after_its_transaction_began(
    box_office: Any, accounts: Any, organizer: Any, event: Any, db: Any
) -> None:
    from ticketing.db import transaction
    from ticketing.tickets import repository

    [ticket] = box_office.buy(accounts.create(), event, event.seat_ids[:1]).tickets
    gate = Principal(UUID(organizer.id), Role.ORGANIZER)
    with transaction() as late_gate:
        late_gate.value("SELECT now()")  # its now() is fixed from here on
        [first] = _at_once([lambda: check_in.check_in(gate, UUID(event.id), CheckInRequest(code=ticket["code"]))])
        assert not isinstance(first, str), first

        admitted = repository.check_in(
            late_gate, UUID(event.id), [(UUID(ticket["id"]), None, "late")], gate_user_id=gate.user_id
        )

    assert admitted == {}
    assert db.value("SELECT check_in_scan_id IS NULL FROM tickets") is True
