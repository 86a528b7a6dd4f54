"""Transfer: the receiver gets a new ticket (new id, new code); the old one is void at once."""

from __future__ import annotations

from typing import Any


def _transfer(api: Any, holder: Any, ticket_id: str, email: str) -> Any:
    return api.post(f"/api/tickets/{ticket_id}/transfer", json={"email": email}, token=holder.token)


def test_a_transfer_gives_the_receiver_a_new_ticket_and_voids_the_old_code(
    api: Any, box_office: Any, accounts: Any, organizer: Any, event: Any, db: Any
) -> None:
    purchase = box_office.buy(accounts.create(), event, event.seat_ids[:1])
    [old] = purchase.tickets
    receiver = accounts.create()

    answer = _transfer(api, purchase.buyer, old["id"], receiver.email.upper())

    assert answer.status == 200, answer.body
    new = answer.json()
    assert new["id"] != old["id"]
    assert new["code"] != old["code"]
    assert (new["seatId"], new["bookingId"], new["status"]) == (old["seatId"], old["bookingId"], "VALID")
    assert box_office.check_in(organizer, event.id, old["code"]).error_code == "TICKET_VOID"
    assert box_office.check_in(organizer, event.id, new["code"]).status == 200
    assert [t["id"] for t in api.get("/api/tickets", token=receiver.token).json()["items"]] == [new["id"]]
    mine = api.get(f"/api/bookings/{purchase.booking['id']}/tickets", token=purchase.buyer.token).json()["items"]
    assert [(t["id"], t["status"]) for t in mine] == [(old["id"], "VOID")]
    assert (
        db.value("SELECT count(*) FROM notifications WHERE user_id = :id AND type = 'TICKET_RECEIVED'", id=receiver.id)
        == 1
    )
    assert (
        db.value("SELECT payload->>'previousTicketId' FROM outbox_events WHERE event_type = 'TicketTransferred'")
        == old["id"]
    )


def test_a_transferred_ticket_joins_the_revocation_feed(
    api: Any, box_office: Any, accounts: Any, organizer: Any, event: Any
) -> None:
    purchase = box_office.buy(accounts.create(), event, event.seat_ids[:1])
    assert _transfer(api, purchase.buyer, purchase.tickets[0]["id"], accounts.create().email).status == 200

    feed = api.get(f"/api/events/{event.id}/check-in/revoked", token=organizer.token)

    assert [item["ticketId"] for item in feed.json()["items"]] == [purchase.tickets[0]["id"]]


def test_no_transfer_after_check_in(
    api: Any, box_office: Any, accounts: Any, organizer: Any, event: Any, db: Any
) -> None:
    purchase = box_office.buy(accounts.create(), event, event.seat_ids[:1])
    assert box_office.check_in(organizer, event.id, purchase.tickets[0]["code"]).status == 200

    answer = _transfer(api, purchase.buyer, purchase.tickets[0]["id"], accounts.create().email)

    assert (answer.status, answer.error_code) == (409, "ALREADY_CHECKED_IN")
    assert db.value("SELECT count(*) FROM tickets") == 1


def test_no_transfer_once_the_event_started(api: Any, box_office: Any, accounts: Any, event: Any, db: Any) -> None:
    purchase = box_office.buy(accounts.create(), event, event.seat_ids[:1])
    db.execute("UPDATE events SET starts_at = now() - interval '1 minute' WHERE id = :id", id=event.id)

    answer = _transfer(api, purchase.buyer, purchase.tickets[0]["id"], accounts.create().email)

    assert (answer.status, answer.error_code) == (409, "EVENT_STARTED")
    assert db.rows("SELECT status FROM tickets") == [{"status": "VALID"}]


def test_only_the_holder_transfers_and_only_to_a_registered_user(
    api: Any, box_office: Any, accounts: Any, event: Any, db: Any
) -> None:
    purchase = box_office.buy(accounts.create(), event, event.seat_ids[:1])
    ticket_id = purchase.tickets[0]["id"]

    stranger = _transfer(api, accounts.create(), ticket_id, accounts.create().email)
    unknown = _transfer(api, purchase.buyer, ticket_id, "nobody@example.com")
    to_self = _transfer(api, purchase.buyer, ticket_id, purchase.buyer.email)

    assert (stranger.status, stranger.error_code) == (404, "NOT_FOUND")
    assert (unknown.status, unknown.json()["error"]["details"]["fields"][0]["field"]) == (422, "email")
    assert to_self.status == 422
    assert db.rows("SELECT status FROM tickets") == [{"status": "VALID"}]
