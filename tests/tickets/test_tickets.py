"""Tickets of confirmed bookings: one per seat, with a code that verifies offline and names ticket and event."""

from __future__ import annotations

from typing import Any

import jwt
from cryptography.hazmat.primitives.serialization import load_pem_public_key


def public_keys(api: Any) -> dict[str, Any]:
    answer = api.get("/api/tickets/public-key")
    assert answer.status == 200, answer.body
    body = answer.json()
    assert body["algorithm"] == "EdDSA"
    return {key["kid"]: load_pem_public_key(key["publicKey"].encode()) for key in body["keys"]}


def test_a_confirmed_booking_has_one_valid_ticket_per_seat(box_office: Any, accounts: Any, event: Any, db: Any) -> None:
    buyer = accounts.create()

    purchase = box_office.buy(buyer, event, event.seat_ids[:3])

    assert [ticket["seatId"] for ticket in purchase.tickets] == event.seat_ids[:3]
    assert {ticket["status"] for ticket in purchase.tickets} == {"VALID"}
    assert {ticket["bookingId"] for ticket in purchase.tickets} == {purchase.booking["id"]}
    assert all(ticket["eventId"] == event.id and ticket["checkedInAt"] is None for ticket in purchase.tickets)
    assert [(t["section"], t["row"], t["number"]) for t in purchase.tickets] == [("Stalls", "A", n) for n in (1, 2, 3)]
    assert db.value("SELECT count(*) FROM tickets WHERE booking_id = :id", id=purchase.booking["id"]) == 3


def test_a_code_verifies_offline_with_the_public_key_and_names_its_ticket_and_event(
    api: Any, box_office: Any, accounts: Any, event: Any
) -> None:
    [ticket] = box_office.buy(accounts.create(), event, event.seat_ids[:1]).tickets
    keys = public_keys(api)

    header = jwt.get_unverified_header(ticket["code"])
    claims = jwt.decode(ticket["code"], keys[header["kid"]], algorithms=["EdDSA"])

    assert header["alg"] == "EdDSA"
    assert claims["tid"] == ticket["id"]
    assert claims["eid"] == event.id
    assert len(ticket["code"]) <= 250


def test_an_altered_code_does_not_verify(api: Any, box_office: Any, accounts: Any, event: Any) -> None:
    [ticket] = box_office.buy(accounts.create(), event, event.seat_ids[:1]).tickets
    header, payload, signature = ticket["code"].split(".")
    other = jwt.utils.base64url_encode(f'{{"tid":"{event.seat_ids[5]}","eid":"{event.id}"}}'.encode()).decode()
    keys = public_keys(api)

    for altered in (
        f"{header}.{other}.{signature}",
        f"{header}.{payload}.{'B' if signature[0] == 'A' else 'A'}{signature[1:]}",
    ):
        try:
            jwt.decode(altered, keys[jwt.get_unverified_header(altered)["kid"]], algorithms=["EdDSA"])
        except jwt.InvalidSignatureError:
            continue
        raise AssertionError(f"{altered} verified")


def test_the_booking_tickets_are_for_its_owner_or_an_admin(
    api: Any, box_office: Any, accounts: Any, event: Any
) -> None:
    purchase = box_office.buy(accounts.create(), event, event.seat_ids[:2])
    path = f"/api/bookings/{purchase.booking['id']}/tickets"

    stranger = api.get(path, token=accounts.create().token)
    admin = api.get(path, token=accounts.create("ADMIN").token)

    assert stranger.status == 404
    assert stranger.error_code == "NOT_FOUND"
    assert admin.status == 200
    assert [t["id"] for t in admin.json()["items"]] == [t["id"] for t in purchase.tickets]


def test_a_pending_booking_has_no_tickets_yet(api: Any, accounts: Any, event: Any, db: Any) -> None:
    buyer = accounts.create()
    assert (
        api.post(
            "/api/bookings/hold-seats", json={"eventId": event.id, "seatIds": event.seat_ids[:1]}, token=buyer.token
        ).status
        == 200
    )
    created = api.post("/api/bookings/create", json={"eventId": event.id}, token=buyer.token)
    assert created.status == 201, created.body

    answer = api.get(f"/api/bookings/{created.json()['id']}/tickets", token=buyer.token)

    assert answer.status == 409
    assert answer.error_code == "BOOKING_NOT_CONFIRMED"
    assert db.value("SELECT count(*) FROM tickets") == 0


def test_cancelling_a_booking_voids_its_tickets_in_the_same_transaction(
    api: Any, box_office: Any, accounts: Any, event: Any, db: Any
) -> None:
    purchase = box_office.buy(accounts.create(), event, event.seat_ids[:2])

    cancelled = api.post(f"/api/bookings/{purchase.booking['id']}/cancel", json={}, token=purchase.buyer.token)

    assert cancelled.status == 200, cancelled.body
    rows = db.rows(
        "SELECT t.status, t.void_reason, t.voided_at IS NOT NULL AS voided, b.status AS booking"
        " FROM tickets t JOIN bookings b ON b.id = t.booking_id WHERE t.booking_id = :id",
        id=purchase.booking["id"],
    )
    assert rows == [{"status": "VOID", "void_reason": "CANCELLED", "voided": True, "booking": "CANCELLED"}] * 2


def test_my_tickets_are_paged_and_filter_by_event(
    api: Any, box_office: Any, accounts: Any, catalog: Any, organizer: Any, event: Any
) -> None:
    buyer = accounts.create()
    other_event = catalog.event(organizer_id=organizer.id)
    box_office.buy(buyer, event, event.seat_ids[:3])
    box_office.buy(buyer, other_event, other_event.seat_ids[:1])

    first = api.get("/api/tickets", query={"pageSize": "2"}, token=buyer.token)
    filtered = api.get("/api/tickets", query={"eventId": other_event.id}, token=buyer.token)
    stranger = api.get("/api/tickets", token=accounts.create().token)

    assert first.status == 200
    assert (first.json()["total"], len(first.json()["items"]), first.json()["pageSize"]) == (4, 2, 2)
    assert [t["eventId"] for t in filtered.json()["items"]] == [other_event.id]
    assert stranger.json() == {"items": [], "page": 1, "pageSize": 20, "total": 0}


def test_the_qr_code_is_an_svg_for_the_holder_only(api: Any, box_office: Any, accounts: Any, event: Any) -> None:
    purchase = box_office.buy(accounts.create(), event, event.seat_ids[:1])
    path = f"/api/tickets/{purchase.tickets[0]['id']}/qr.svg"

    mine = api.get(path, token=purchase.buyer.token)
    theirs = api.get(path, token=accounts.create().token)

    assert mine.status == 200
    assert mine.header("Content-Type") == "image/svg+xml"
    assert mine.header("Cache-Control") == "private, no-store"
    assert b"<svg" in mine.body
    assert b"</svg>" in mine.body
    assert theirs.status == 404


def test_the_organizer_sees_check_in_counts_on_the_event(
    api: Any, box_office: Any, accounts: Any, organizer: Any, event: Any
) -> None:
    purchase = box_office.buy(accounts.create(), event, event.seat_ids[:3])
    assert box_office.check_in(organizer, event.id, purchase.tickets[0]["code"]).status == 200

    for_organizer = api.get(f"/api/events/{event.id}", token=organizer.token)
    for_public = api.get(f"/api/events/{event.id}")

    assert for_organizer.json()["checkIn"] == {"tickets": 3, "checkedIn": 1, "void": 0}
    assert "checkIn" not in for_public.json()
