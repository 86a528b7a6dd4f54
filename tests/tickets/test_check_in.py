"""Gates check tickets in: each ticket is admitted once; forged, foreign and void codes are refused."""

from __future__ import annotations

import base64
import json
from typing import Any

from ticketing.signing_keys import generate_private_key_pem, parse_key_ring
from ticketing.tickets.codes import sign


def test_the_first_scan_admits_the_ticket(box_office: Any, accounts: Any, organizer: Any, event: Any, db: Any) -> None:
    [ticket] = box_office.buy(accounts.create(), event, event.seat_ids[:1]).tickets

    answer = box_office.check_in(organizer, event.id, ticket["code"], "gate-1-0001")

    assert answer.status == 200, answer.body
    body = answer.json()
    assert body["ticket"]["id"] == ticket["id"]
    assert body["ticket"]["status"] == "CHECKED_IN"
    assert body["ticket"]["checkedInAt"] == body["checkedInAt"]
    row = db.rows(
        "SELECT status, check_in_scan_id, checked_in_by::text AS gate FROM tickets WHERE id = :id", id=ticket["id"]
    )
    assert row == [{"status": "CHECKED_IN", "check_in_scan_id": "gate-1-0001", "gate": organizer.id}]
    events = db.rows("SELECT payload->>'ticketId' AS ticket FROM outbox_events WHERE event_type = 'TicketCheckedIn'")
    assert events == [{"ticket": ticket["id"]}]


def test_a_second_scan_is_refused_with_the_first_time(
    box_office: Any, accounts: Any, organizer: Any, event: Any
) -> None:
    [ticket] = box_office.buy(accounts.create(), event, event.seat_ids[:1]).tickets
    first = box_office.check_in(organizer, event.id, ticket["code"], "gate-1-0001")
    assert first.status == 200, first.body

    second = box_office.check_in(organizer, event.id, ticket["code"], "gate-2-0001")

    assert second.status == 409
    assert second.error_code == "ALREADY_CHECKED_IN"
    assert second.json()["error"]["details"]["checkedInAt"] == first.json()["checkedInAt"]


def test_a_retried_scan_id_repeats_the_first_answer(box_office: Any, accounts: Any, organizer: Any, event: Any) -> None:
    [ticket] = box_office.buy(accounts.create(), event, event.seat_ids[:1]).tickets
    first = box_office.check_in(organizer, event.id, ticket["code"], "gate-1-0001")
    assert first.status == 200, first.body

    retry = box_office.check_in(organizer, event.id, ticket["code"], "gate-1-0001")

    assert retry.status == 200
    assert retry.json() == first.json()


def _forged_code(ticket_id: str, event_id: str) -> str:
    """A well-formed code for a real ticket, signed with a key that is not ours."""
    return sign(ticket_id, event_id, parse_key_ring(generate_private_key_pem()))  # type: ignore[arg-type]


def test_forged_altered_and_malformed_codes_are_invalid(
    box_office: Any, accounts: Any, organizer: Any, event: Any, db: Any
) -> None:
    [ticket] = box_office.buy(accounts.create(), event, event.seat_ids[:1]).tickets
    header, _, signature = ticket["code"].split(".")
    altered_payload = (
        base64.urlsafe_b64encode(json.dumps({"tid": ticket["id"], "eid": event.id, "x": 1}).encode())
        .decode()
        .rstrip("=")
    )

    for code in (
        _forged_code(ticket["id"], event.id),
        f"{header}.{altered_payload}.{signature}",
        "not-a-code",
        "",
    ):
        answer = box_office.check_in(organizer, event.id, code)
        assert (answer.status, answer.error_code) == (422, "INVALID_TICKET"), code

    assert db.value("SELECT status FROM tickets WHERE id = :id", id=ticket["id"]) == "VALID"


def test_a_code_of_another_event_is_the_wrong_event(
    box_office: Any, accounts: Any, catalog: Any, organizer: Any, event: Any
) -> None:
    other_event = catalog.event(organizer_id=organizer.id)
    [ticket] = box_office.buy(accounts.create(), other_event, other_event.seat_ids[:1]).tickets

    answer = box_office.check_in(organizer, event.id, ticket["code"])

    assert (answer.status, answer.error_code) == (409, "WRONG_EVENT")


def test_a_ticket_of_a_cancelled_booking_is_void(
    api: Any, box_office: Any, accounts: Any, organizer: Any, event: Any
) -> None:
    purchase = box_office.buy(accounts.create(), event, event.seat_ids[:1])
    assert api.post(f"/api/bookings/{purchase.booking['id']}/cancel", json={}, token=purchase.buyer.token).status == 200

    answer = box_office.check_in(organizer, event.id, purchase.tickets[0]["code"])

    assert (answer.status, answer.error_code) == (409, "TICKET_VOID")


def test_a_customer_cannot_check_anyone_in(box_office: Any, accounts: Any, event: Any, db: Any) -> None:
    purchase = box_office.buy(accounts.create(), event, event.seat_ids[:1])

    own = box_office.check_in(purchase.buyer, event.id, purchase.tickets[0]["code"])
    batch = box_office.batch(
        purchase.buyer,
        event.id,
        [{"code": purchase.tickets[0]["code"], "scanId": "s1", "scannedAt": "2026-11-28T10:00:00Z"}],
    )

    assert (own.status, own.error_code) == (403, "FORBIDDEN")
    assert (batch.status, batch.error_code) == (403, "FORBIDDEN")
    assert db.value("SELECT status FROM tickets") == "VALID"


def test_another_organizer_cannot_check_in_at_this_event(box_office: Any, accounts: Any, event: Any, db: Any) -> None:
    [ticket] = box_office.buy(accounts.create(), event, event.seat_ids[:1]).tickets

    answer = box_office.check_in(accounts.create("ORGANIZER"), event.id, ticket["code"])

    assert (answer.status, answer.error_code) == (403, "FORBIDDEN")
    assert db.value("SELECT status FROM tickets") == "VALID"


def test_an_admin_may_check_in_at_any_event(box_office: Any, accounts: Any, event: Any, db: Any) -> None:
    [ticket] = box_office.buy(accounts.create(), event, event.seat_ids[:1]).tickets
    admin = accounts.create("ADMIN")

    answer = box_office.check_in(admin, event.id, ticket["code"])

    assert answer.status == 200, answer.body
    assert answer.json()["ticket"]["id"] == ticket["id"]
    assert db.rows("SELECT status, checked_in_by::text AS gate FROM tickets WHERE id = :id", id=ticket["id"]) == [
        {"status": "CHECKED_IN", "gate": admin.id}
    ]


def test_a_scan_id_must_be_printable_text(box_office: Any, accounts: Any, organizer: Any, event: Any, db: Any) -> None:
    [ticket] = box_office.buy(accounts.create(), event, event.seat_ids[:1]).tickets

    answer = box_office.check_in(organizer, event.id, ticket["code"], "gate\u0000-1")

    assert (answer.status, answer.error_code) == (422, "VALIDATION_ERROR")
    assert db.value("SELECT status FROM tickets") == "VALID"
