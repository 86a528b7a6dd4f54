"""A cancelled event's tickets: void from the cancellation's commit, written VOID by the outbox publisher right
after (docs/tickets.md, "Void with their event")."""

from __future__ import annotations

from typing import Any

import pytest

from tests.tickets.conftest import BoxOffice, Purchase


@pytest.fixture
def cancelled_purchase(api: Any, box_office: BoxOffice, accounts: Any, organizer: Any, event: Any) -> Purchase:
    """Given a confirmed booking of two seats, one ticket already checked in, and the event then cancelled (the
    outbox publisher has not run yet)."""
    purchase = box_office.buy(accounts.create(), event, event.seat_ids[:2])
    assert box_office.check_in(organizer, event.id, purchase.tickets[0]["code"]).status == 200
    cancelled = api.post(f"/api/events/{event.id}/cancel", token=organizer.token)
    assert cancelled.status == 200, cancelled.body
    return purchase


def _ticket_rows(db: Any, event_id: str) -> list[tuple[str, str | None]]:
    rows = db.rows("SELECT status, void_reason FROM tickets WHERE event_id = :e ORDER BY id", e=event_id)
    return [(row["status"], row["void_reason"]) for row in rows]


def test_the_holder_sees_the_tickets_of_a_cancelled_event_void_at_once(
    api: Any, cancelled_purchase: Purchase, event: Any, db: Any
) -> None:
    # When the holder lists their tickets before the publisher has written anything
    listed = api.get("/api/tickets", token=cancelled_purchase.buyer.token)

    # Then every ticket reads VOID, although the rows still say what they said before the cancellation
    assert listed.status == 200, listed.body
    assert [ticket["status"] for ticket in listed.json()["items"]] == ["VOID", "VOID"]
    assert sorted(status for status, _ in _ticket_rows(db, event.id)) == ["CHECKED_IN", "VALID"]


def test_a_gate_refuses_every_ticket_of_a_cancelled_event(
    box_office: BoxOffice, cancelled_purchase: Purchase, organizer: Any, event: Any, db: Any
) -> None:
    never_scanned, _ = reversed(cancelled_purchase.tickets)

    # When the gate scans the ticket that was never checked in
    answer = box_office.check_in(organizer, event.id, never_scanned["code"])

    # Then it is void, and nothing was admitted
    assert (answer.status, answer.error_code) == (409, "TICKET_VOID")
    assert db.value("SELECT count(*) FROM tickets WHERE event_id = :e AND status = 'CHECKED_IN'", e=event.id) == 1


def test_a_ticket_of_a_cancelled_event_cannot_be_transferred(
    api: Any, accounts: Any, cancelled_purchase: Purchase, event: Any, db: Any
) -> None:
    never_scanned = cancelled_purchase.tickets[1]

    # When its holder tries to give it away
    answer = api.post(
        f"/api/tickets/{never_scanned['id']}/transfer",
        json={"email": accounts.create().email},
        token=cancelled_purchase.buyer.token,
    )

    # Then it is void, and no ticket was added or changed
    assert (answer.status, answer.error_code) == (409, "TICKET_VOID")
    assert sorted(status for status, _ in _ticket_rows(db, event.id)) == ["CHECKED_IN", "VALID"]


def test_the_check_in_counts_of_a_cancelled_event_count_its_tickets_void(
    api: Any, cancelled_purchase: Purchase, organizer: Any, event: Any
) -> None:
    shown = api.get(f"/api/events/{event.id}", token=organizer.token)

    assert shown.status == 200, shown.body
    assert shown.json()["checkIn"] == {"tickets": 0, "checkedIn": 0, "void": 2}


def test_the_publisher_writes_void_into_a_cancelled_events_tickets_and_the_feed_lists_them(
    api: Any, cancelled_purchase: Purchase, organizer: Any, event: Any, db: Any
) -> None:
    from ticketing.bookings.event_cancellation import expander_for
    from ticketing.domain_events.expansion import expand_next

    # When the outbox publisher expands the cancellation
    assert expand_next(expander_for) == 1

    # Then both tickets, the checked-in one too, are VOID for the cancellation, and scanners learn of them
    assert _ticket_rows(db, event.id) == [("VOID", "CANCELLED"), ("VOID", "CANCELLED")]
    feed = api.get(f"/api/events/{event.id}/check-in/revoked", token=organizer.token).json()
    assert sorted(item["ticketId"] for item in feed["items"]) == sorted(t["id"] for t in cancelled_purchase.tickets)
    assert api.get(f"/api/events/{event.id}", token=organizer.token).json()["checkIn"] == {
        "tickets": 0,
        "checkedIn": 0,
        "void": 2,
    }


def test_a_transfer_racing_the_events_cancellation_waits_for_it_and_hands_nothing_on(
    box_office: BoxOffice, accounts: Any, organizer: Any, event: Any, db: Any
) -> None:
    from tests.concurrency.two_sessions import commit_while_blocked, connect
    from ticketing.db.connection import Session
    from ticketing.tickets import repository

    # Given a ticket, and the event's cancellation in flight (its transaction holds the event row)
    purchase = box_office.buy(accounts.create(), event, event.seat_ids[:1])
    [ticket] = purchase.tickets
    canceller, transferrer = connect(), connect()
    voided: list[Any] = []
    try:
        canceller.run("BEGIN")
        canceller.run("SELECT 1 FROM events WHERE id = :id FOR UPDATE", id=event.id)
        canceller.run("UPDATE events SET status = 'CANCELLED', cancelled_at = now() WHERE id = :id", id=event.id)

        # When the holder's transfer voids the ticket meanwhile, and the cancellation then commits
        failure = commit_while_blocked(
            db,
            canceller,
            transferrer,
            lambda session: voided.append(
                repository.void_for_transfer(Session(session), ticket["id"], purchase.buyer.id)
            ),
        )
    finally:
        canceller.close()
        transferrer.close()

    # Then the transfer waited, saw the cancelled event and changed nothing
    assert failure is None
    assert voided == [None]
    assert db.rows("SELECT status FROM tickets WHERE event_id = :e", e=event.id) == [{"status": "VALID"}]
