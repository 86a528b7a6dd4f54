"""Holds (docs/booking-lifecycle.md): hold-seats, release-seats, extend-hold, hold-status."""

from __future__ import annotations

import uuid
from typing import Any


def _seat_states(db: Any, seat_ids: list[str]) -> dict[str, dict[str, Any]]:
    rows = db.rows(
        "SELECT id::text AS id, status, held_by::text AS held_by, held_until, hold_extensions, booking_id"
        " FROM event_seats WHERE id = ANY(CAST(:ids AS uuid[]))",
        ids=seat_ids,
    )
    return {row["id"]: row for row in rows}


def test_hold_seats_holds_every_requested_seat_for_the_hold_ttl(
    shop: Any, accounts: Any, catalog: Any, db: Any
) -> None:
    event = catalog.event()
    buyer = accounts.create()
    seats = event.seat_ids[:3]

    response = shop.hold(buyer, event.id, seats)

    assert response.status == 200, response.body
    body = response.json()
    assert body["eventId"] == event.id
    assert body["seatIds"] == seats
    assert body["holdTtlSeconds"] == 600
    assert body["heldUntil"].endswith("Z")
    states = _seat_states(db, seats)
    assert {row["status"] for row in states.values()} == {"HELD"}
    assert {row["held_by"] for row in states.values()} == {buyer.id}
    seconds_left = db.value(
        "SELECT extract(epoch FROM min(held_until) - now()) FROM event_seats WHERE held_by = :user", user=buyer.id
    )
    assert 590 < float(seconds_left) <= 600


def test_hold_is_all_or_nothing_and_names_only_the_unavailable_seats(
    shop: Any, accounts: Any, catalog: Any, db: Any
) -> None:
    event = catalog.event()
    first, second = accounts.create(), accounts.create()
    assert shop.hold(first, event.id, [event.seat_ids[1]]).status == 200

    response = shop.hold(second, event.id, event.seat_ids[:3])

    assert response.status == 409
    assert response.error_code == "SEATS_UNAVAILABLE"
    assert response.json()["error"]["details"]["seatIds"] == [event.seat_ids[1]]
    states = _seat_states(db, event.seat_ids[:3])
    assert states[event.seat_ids[0]]["status"] == "AVAILABLE"
    assert states[event.seat_ids[2]]["status"] == "AVAILABLE"
    assert states[event.seat_ids[1]]["held_by"] == first.id


def test_a_seat_locked_by_another_transaction_is_seats_locked_at_once(
    shop: Any, accounts: Any, catalog: Any, db: Any, row_locker: Any
) -> None:
    event = catalog.event()
    buyer = accounts.create()
    row_locker.lock("SELECT id FROM event_seats WHERE id = :id FOR UPDATE", id=event.seat_ids[0])

    # The locker keeps its lock for the whole request: a statement that waited for it would block until
    # statement_timeout and fail as a cancelled query, so SEATS_LOCKED can only come from NOWAIT.
    response = shop.hold(buyer, event.id, event.seat_ids[:2])

    assert response.status == 409
    assert response.error_code == "SEATS_LOCKED"
    assert response.header("Retry-After") == "1"
    assert db.value("SELECT count(*) FROM event_seats WHERE status = 'HELD'") == 0


def test_a_seat_booked_by_someone_else_is_unavailable(shop: Any, accounts: Any, catalog: Any, db: Any) -> None:
    event = catalog.event()
    owner, other = accounts.create(), accounts.create()
    booking = shop.confirmed_booking(owner, event, event.seat_ids[:1])

    response = shop.hold(other, event.id, event.seat_ids[:1])

    assert response.status == 409
    assert response.error_code == "SEATS_UNAVAILABLE"
    seat = _seat_states(db, event.seat_ids[:1])[event.seat_ids[0]]
    assert (seat["held_by"], str(seat["booking_id"])) == (owner.id, booking["id"])


def test_an_expired_hold_counts_as_available_before_the_expiry_job_runs(
    shop: Any, accounts: Any, catalog: Any, db: Any
) -> None:
    event = catalog.event()
    first, second = accounts.create(), accounts.create()
    shop.held(first, event.id, event.seat_ids[:1])
    db.execute("UPDATE event_seats SET held_until = now() - interval '1 second' WHERE id = :id", id=event.seat_ids[0])

    response = shop.hold(second, event.id, event.seat_ids[:1])

    assert response.status == 200, response.body
    assert _seat_states(db, event.seat_ids[:1])[event.seat_ids[0]]["held_by"] == second.id


def test_a_seat_in_a_live_pending_booking_is_unavailable(shop: Any, accounts: Any, catalog: Any, db: Any) -> None:
    event = catalog.event()
    first, second = accounts.create(), accounts.create()
    booking = shop.pending_booking(first, event, event.seat_ids[:1])

    response = shop.hold(second, event.id, event.seat_ids[:1])

    assert response.status == 409
    assert response.error_code == "SEATS_UNAVAILABLE"
    assert db.value("SELECT status FROM bookings WHERE id = :id", id=booking["id"]) == "PENDING"


def test_a_seat_of_a_pending_booking_past_its_payment_window_is_available_before_the_job_runs(
    shop: Any, accounts: Any, catalog: Any, db: Any
) -> None:
    event = catalog.event()
    first, second = accounts.create(), accounts.create()
    booking = shop.pending_booking(first, event, event.seat_ids[:2])
    db.execute("UPDATE bookings SET expires_at = now() - interval '1 second' WHERE id = :id", id=booking["id"])

    response = shop.hold(second, event.id, event.seat_ids[:1])

    assert response.status == 200, response.body
    assert db.rows("SELECT status, version FROM bookings WHERE id = :id", id=booking["id"]) == [
        {"status": "EXPIRED", "version": booking["version"] + 1}
    ]
    states = _seat_states(db, event.seat_ids[:2])
    assert states[event.seat_ids[0]]["held_by"] == second.id
    assert states[event.seat_ids[1]]["status"] == "AVAILABLE"
    assert (
        db.value("SELECT count(*) FROM notifications WHERE user_id = :id AND type = 'BOOKING_EXPIRED'", id=first.id)
        == 1
    )


def test_holding_a_seat_again_keeps_its_held_until(shop: Any, accounts: Any, catalog: Any, db: Any) -> None:
    event = catalog.event()
    buyer = accounts.create()
    shop.held(buyer, event.id, event.seat_ids[:1])
    db.execute(
        "UPDATE event_seats SET held_until = now() + interval '100 seconds' WHERE id = :id", id=event.seat_ids[0]
    )
    before = _seat_states(db, event.seat_ids[:1])[event.seat_ids[0]]["held_until"]

    response = shop.hold(buyer, event.id, event.seat_ids[:2])

    assert response.status == 200
    states = _seat_states(db, event.seat_ids[:2])
    assert states[event.seat_ids[0]]["held_until"] == before
    assert states[event.seat_ids[1]]["held_until"] > before
    assert response.json()["heldUntil"] == before.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_an_event_whose_sales_have_not_started_is_not_on_sale(shop: Any, accounts: Any, catalog: Any, db: Any) -> None:
    event = catalog.event(sales_open=False)
    buyer = accounts.create()

    response = shop.hold(buyer, event.id, event.seat_ids[:1])

    assert response.status == 409
    assert response.error_code == "EVENT_NOT_ON_SALE"
    assert db.value("SELECT count(*) FROM event_seats WHERE status = 'HELD'") == 0


def test_a_draft_event_is_not_on_sale(shop: Any, accounts: Any, catalog: Any, db: Any) -> None:
    event = catalog.event(status="DRAFT")

    response = shop.hold(accounts.create(), event.id, event.seat_ids[:1])

    assert response.status == 409
    assert response.error_code == "EVENT_NOT_ON_SALE"
    assert db.value("SELECT count(*) FROM event_seats WHERE status = 'HELD'") == 0


def test_an_event_that_has_started_is_not_on_sale(shop: Any, accounts: Any, catalog: Any, db: Any) -> None:
    event = catalog.event(starts_in_hours=-0.5)

    response = shop.hold(accounts.create(), event.id, event.seat_ids[:1])

    assert response.status == 409
    assert response.error_code == "EVENT_NOT_ON_SALE"
    assert db.value("SELECT count(*) FROM event_seats WHERE status = 'HELD'") == 0


def test_holding_more_than_max_tickets_per_user_is_ticket_limit(
    shop: Any, accounts: Any, catalog: Any, db: Any
) -> None:
    event = catalog.event(max_tickets_per_user=3)
    buyer = accounts.create()
    shop.pending_booking(buyer, event, event.seat_ids[:2])

    response = shop.hold(buyer, event.id, event.seat_ids[2:4])

    assert response.status == 409
    assert response.error_code == "TICKET_LIMIT"
    assert response.json()["error"]["details"] == {"limit": 3, "current": 2, "requested": 2}
    assert db.value("SELECT count(*) FROM event_seats WHERE status = 'HELD' AND booking_id IS NULL") == 0
    assert shop.hold(buyer, event.id, event.seat_ids[2:3]).status == 200


def test_expired_holds_do_not_count_towards_the_ticket_limit(shop: Any, accounts: Any, catalog: Any, db: Any) -> None:
    event = catalog.event(max_tickets_per_user=2)
    buyer = accounts.create()
    shop.held(buyer, event.id, event.seat_ids[:2])
    db.execute("UPDATE event_seats SET held_until = now() - interval '1 second' WHERE held_by = :user", user=buyer.id)

    response = shop.hold(buyer, event.id, event.seat_ids[2:4])

    assert response.status == 200, response.body
    states = _seat_states(db, event.seat_ids[2:4])
    assert {(row["status"], row["held_by"]) for row in states.values()} == {("HELD", buyer.id)}


def test_seats_of_another_event_are_not_found(shop: Any, accounts: Any, catalog: Any, db: Any) -> None:
    event, other_event = catalog.event(), catalog.event()

    response = shop.hold(accounts.create(), event.id, [event.seat_ids[0], other_event.seat_ids[0]])

    assert response.status == 404
    assert response.json()["error"]["details"]["seatIds"] == [other_event.seat_ids[0]]
    assert db.value("SELECT count(*) FROM event_seats WHERE status = 'HELD'") == 0


def test_an_unknown_event_is_not_found(shop: Any, accounts: Any) -> None:
    response = shop.hold(accounts.create(), str(uuid.uuid4()), [str(uuid.uuid4())])

    assert response.status == 404
    assert response.error_code == "NOT_FOUND"


def test_duplicate_seat_ids_are_a_validation_error(shop: Any, accounts: Any, catalog: Any, db: Any) -> None:
    event = catalog.event()

    response = shop.hold(accounts.create(), event.id, [event.seat_ids[0], event.seat_ids[0]])

    assert response.status == 422
    assert response.json()["error"]["details"]["fields"][0]["field"] == "seatIds"
    assert db.value("SELECT count(*) FROM event_seats WHERE status = 'HELD'") == 0


def test_seat_ids_must_be_between_one_and_a_hundred(shop: Any, accounts: Any, catalog: Any) -> None:
    event = catalog.event()
    buyer = accounts.create()

    empty = shop.hold(buyer, event.id, [])
    too_many = shop.hold(buyer, event.id, [str(uuid.uuid4()) for _ in range(101)])

    assert (empty.status, too_many.status) == (422, 422)
    assert empty.error_code == too_many.error_code == "VALIDATION_ERROR"


def test_malformed_hold_requests_are_validation_errors(shop: Any, accounts: Any, catalog: Any, db: Any) -> None:
    event = catalog.event()
    buyer = accounts.create()

    bad_uuid = shop.api.post(shop.HOLD, json={"eventId": event.id, "seatIds": ["seat-1"]}, token=buyer.token)
    unknown_field = shop.api.post(
        shop.HOLD, json={"eventId": event.id, "seatIds": event.seat_ids[:1], "price": 1}, token=buyer.token
    )
    not_json = shop.api.post(shop.HOLD, body=b"{nope", headers={"Content-Type": "application/json"}, token=buyer.token)

    assert (bad_uuid.status, bad_uuid.error_code) == (422, "VALIDATION_ERROR")
    assert (unknown_field.status, unknown_field.error_code) == (422, "VALIDATION_ERROR")
    assert not_json.status == 400
    assert not_json.error_code == "INVALID_JSON"
    assert db.value("SELECT count(*) FROM event_seats WHERE status = 'HELD'") == 0


def test_holding_requires_a_signed_in_user(api: Any, catalog: Any, db: Any) -> None:
    event = catalog.event()

    response = api.post("/api/bookings/hold-seats", json={"eventId": event.id, "seatIds": event.seat_ids[:1]})

    assert (response.status, response.error_code) == (401, "UNAUTHORIZED")
    assert db.value("SELECT count(*) FROM event_seats WHERE status = 'HELD'") == 0


def test_release_seats_releases_all_the_callers_holds_for_the_event(
    shop: Any, accounts: Any, catalog: Any, db: Any
) -> None:
    event = catalog.event()
    buyer, other = accounts.create(), accounts.create()
    shop.held(buyer, event.id, event.seat_ids[:2])
    shop.held(other, event.id, event.seat_ids[2:3])

    response = shop.api.post(shop.RELEASE, json={"eventId": event.id}, token=buyer.token)

    assert response.status == 200
    assert sorted(response.json()["releasedSeatIds"]) == sorted(event.seat_ids[:2])
    states = _seat_states(db, event.seat_ids[:3])
    assert [states[s]["status"] for s in event.seat_ids[:3]] == ["AVAILABLE", "AVAILABLE", "HELD"]
    assert states[event.seat_ids[0]]["held_by"] is None


def test_release_seats_releases_only_the_named_seats_the_caller_holds(
    shop: Any, accounts: Any, catalog: Any, db: Any
) -> None:
    event = catalog.event()
    buyer, other = accounts.create(), accounts.create()
    shop.held(buyer, event.id, event.seat_ids[:2])
    shop.held(other, event.id, event.seat_ids[2:3])

    response = shop.api.post(
        shop.RELEASE, json={"eventId": event.id, "seatIds": [event.seat_ids[0], event.seat_ids[2]]}, token=buyer.token
    )

    assert response.json() == {"eventId": event.id, "releasedSeatIds": [event.seat_ids[0]]}
    states = _seat_states(db, event.seat_ids[:3])
    assert [states[s]["status"] for s in event.seat_ids[:3]] == ["AVAILABLE", "HELD", "HELD"]


def test_release_seats_leaves_seats_that_are_in_a_booking(shop: Any, accounts: Any, catalog: Any, db: Any) -> None:
    event = catalog.event()
    buyer = accounts.create()
    shop.pending_booking(buyer, event, event.seat_ids[:1])

    response = shop.api.post(shop.RELEASE, json={"eventId": event.id}, token=buyer.token)

    assert response.json()["releasedSeatIds"] == []
    assert _seat_states(db, event.seat_ids[:1])[event.seat_ids[0]]["booking_id"] is not None


def test_extend_hold_renews_every_live_hold_of_the_caller(shop: Any, accounts: Any, catalog: Any, db: Any) -> None:
    event = catalog.event()
    buyer = accounts.create()
    shop.held(buyer, event.id, event.seat_ids[:2])
    db.execute("UPDATE event_seats SET held_until = now() + interval '30 seconds' WHERE held_by = :u", u=buyer.id)

    response = shop.api.post(shop.EXTEND, json={"eventId": event.id}, token=buyer.token)

    assert response.status == 200
    body = response.json()
    assert sorted(body["seatIds"]) == sorted(event.seat_ids[:2])
    states = _seat_states(db, event.seat_ids[:2])
    assert {row["hold_extensions"] for row in states.values()} == {1}
    seconds_left = db.value(
        "SELECT extract(epoch FROM min(held_until) - now()) FROM event_seats WHERE held_by = :u", u=buyer.id
    )
    assert float(seconds_left) > 590


def _age_holds(db: Any, buyer_id: str) -> None:
    """Given step: the buyer's holds were placed a while ago and run out in 30 seconds."""
    db.execute("UPDATE event_seats SET held_until = now() + interval '30 seconds' WHERE held_by = :u", u=buyer_id)


def test_extend_hold_moves_held_until_to_now_plus_the_ttl_and_says_how_many_extensions_are_left(
    shop: Any, accounts: Any, catalog: Any, db: Any
) -> None:
    event = catalog.event()
    buyer = accounts.create()
    assert shop.hold(buyer, event.id, event.seat_ids[:2]).status == 200
    _age_holds(db, buyer.id)

    response = shop.api.post(shop.EXTEND, json={"eventId": event.id}, token=buyer.token)

    assert response.status == 200
    assert response.json()["extensionsLeft"] == 1
    held_until = db.value("SELECT min(held_until) FROM event_seats WHERE held_by = :u", u=buyer.id)
    assert response.json()["heldUntil"] == held_until.strftime("%Y-%m-%dT%H:%M:%SZ")
    status = shop.api.get(shop.HOLD_STATUS, query={"eventId": event.id}, token=buyer.token)
    assert status.json()["holds"][0]["extensionsLeft"] == 1


def test_extend_hold_right_after_a_hold_keeps_the_extension_when_held_until_would_not_move(
    shop: Any, accounts: Any, catalog: Any, db: Any
) -> None:
    event = catalog.event()
    buyer = accounts.create()
    held = shop.hold(buyer, event.id, event.seat_ids[:1])
    assert held.status == 200

    response = shop.api.post(shop.EXTEND, json={"eventId": event.id}, token=buyer.token)

    assert response.status == 200
    assert response.json()["extensionsLeft"] == 2
    assert response.json()["heldUntil"] == held.json()["heldUntil"]
    assert _seat_states(db, event.seat_ids[:1])[event.seat_ids[0]]["hold_extensions"] == 0


def test_extend_hold_stops_at_max_hold_extensions(shop: Any, accounts: Any, catalog: Any, db: Any) -> None:
    event = catalog.event()
    buyer = accounts.create()
    assert shop.hold(buyer, event.id, event.seat_ids[:1]).status == 200
    for left in (1, 0):
        _age_holds(db, buyer.id)
        extended = shop.api.post(shop.EXTEND, json={"eventId": event.id}, token=buyer.token)
        assert extended.status == 200
        assert extended.json()["extensionsLeft"] == left
    _age_holds(db, buyer.id)
    before = _seat_states(db, event.seat_ids[:1])[event.seat_ids[0]]["held_until"]

    response = shop.api.post(shop.EXTEND, json={"eventId": event.id}, token=buyer.token)

    assert response.status == 409
    assert response.error_code == "HOLD_EXTENSION_LIMIT"
    state = _seat_states(db, event.seat_ids[:1])[event.seat_ids[0]]
    assert (state["held_until"], state["hold_extensions"]) == (before, 2)


def test_extend_hold_without_live_holds_is_not_found(shop: Any, accounts: Any, catalog: Any, db: Any) -> None:
    event = catalog.event()
    buyer = accounts.create()
    shop.held(buyer, event.id, event.seat_ids[:1])
    db.execute("UPDATE event_seats SET held_until = now() - interval '1 second' WHERE held_by = :u", u=buyer.id)

    response = shop.api.post(shop.EXTEND, json={"eventId": event.id}, token=buyer.token)

    assert response.status == 404
    assert db.value("SELECT hold_extensions FROM event_seats WHERE id = :id", id=event.seat_ids[0]) == 0


def test_hold_status_lists_live_holds_with_seats_and_seconds_left(
    shop: Any, accounts: Any, catalog: Any, db: Any
) -> None:
    event, other_event = catalog.event(price=1800), catalog.event()
    buyer = accounts.create()
    shop.held(buyer, event.id, event.seat_ids[:2])
    shop.held(buyer, other_event.id, other_event.seat_ids[:1])
    db.execute(
        "UPDATE event_seats SET held_until = now() - interval '1 second' WHERE id = :id", id=other_event.seat_ids[0]
    )

    response = shop.api.get(shop.HOLD_STATUS, token=buyer.token)

    assert response.status == 200
    body = response.json()
    assert body["serverTime"].endswith("Z")
    assert len(body["holds"]) == 1
    hold = body["holds"][0]
    assert hold["eventId"] == event.id
    assert hold["seats"] == [
        {"id": event.seat_ids[0], "section": "Stalls", "row": "A", "number": 1, "price": 1800},
        {"id": event.seat_ids[1], "section": "Stalls", "row": "A", "number": 2, "price": 1800},
    ]
    assert 590 <= hold["secondsLeft"] <= 600


def test_hold_status_filters_by_event(shop: Any, accounts: Any, catalog: Any) -> None:
    event, other_event = catalog.event(), catalog.event()
    buyer = accounts.create()
    shop.held(buyer, event.id, event.seat_ids[:1])
    shop.held(buyer, other_event.id, other_event.seat_ids[:1])

    response = shop.api.get(shop.HOLD_STATUS, token=buyer.token, query={"eventId": other_event.id})
    bad = shop.api.get(shop.HOLD_STATUS, token=buyer.token, query={"eventId": "nope"})

    assert [hold["eventId"] for hold in response.json()["holds"]] == [other_event.id]
    assert bad.status == 422


def test_seats_can_be_held_by_section_row_and_number(shop: Any, accounts: Any, catalog: Any, db: Any) -> None:
    event = catalog.event(rows=2, seats_per_row=5)  # seat_ids: A1..A5, B1..B5
    buyer = accounts.create()
    labels = [
        {"sectionId": event.section_id, "row": "B", "number": 2},
        {"sectionId": event.section_id, "row": "A", "number": 5},
    ]

    response = shop.api.post(shop.HOLD, json={"eventId": event.id, "seats": labels}, token=buyer.token)

    assert response.status == 200, response.body
    assert response.json()["seatIds"] == [event.seat_ids[6], event.seat_ids[4]]
    states = _seat_states(db, [event.seat_ids[6], event.seat_ids[4]])
    assert {row["held_by"] for row in states.values()} == {buyer.id}


def test_an_unknown_label_is_a_validation_error_naming_it(shop: Any, accounts: Any, catalog: Any, db: Any) -> None:
    event = catalog.event(rows=2, seats_per_row=5)
    buyer = accounts.create()
    good = {"sectionId": event.section_id, "row": "A", "number": 1}
    cases = {
        "seats[1].sectionId": {"sectionId": str(uuid.uuid4()), "row": "A", "number": 1},
        "seats[1].row": {"sectionId": event.section_id, "row": "C", "number": 1},
        "seats[1].number": {"sectionId": event.section_id, "row": "B", "number": 6},
    }

    for field, unknown in cases.items():
        response = shop.api.post(shop.HOLD, json={"eventId": event.id, "seats": [good, unknown]}, token=buyer.token)

        assert response.status == 422, response.body
        assert response.json()["error"]["details"]["fields"][0]["field"] == field
    assert db.value("SELECT count(*) FROM event_seats WHERE status <> 'AVAILABLE'") == 0


def test_a_hold_names_seats_by_id_or_by_label_never_both_nor_neither(
    shop: Any, accounts: Any, catalog: Any, db: Any
) -> None:
    event = catalog.event()
    buyer = accounts.create()
    label = {"sectionId": event.section_id, "row": "A", "number": 1}

    both = shop.api.post(
        shop.HOLD, json={"eventId": event.id, "seatIds": event.seat_ids[:1], "seats": [label]}, token=buyer.token
    )
    neither = shop.api.post(shop.HOLD, json={"eventId": event.id}, token=buyer.token)
    duplicated = shop.api.post(shop.HOLD, json={"eventId": event.id, "seats": [label, label]}, token=buyer.token)
    lower_case_row = shop.api.post(
        shop.HOLD, json={"eventId": event.id, "seats": [{**label, "row": "a"}]}, token=buyer.token
    )

    assert [(r.status, r.error_code) for r in (both, neither, duplicated, lower_case_row)] == [
        (422, "VALIDATION_ERROR")
    ] * 4
    assert db.value("SELECT count(*) FROM event_seats WHERE status = 'HELD'") == 0
