"""hold-best: the best block of adjacent seats, front row first, then nearest the centre, no stranded seat
(docs/best-available.md)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

HOLD_BEST = "/api/bookings/hold-best"


def _hold_best(api: Any, buyer: Any, event_id: str, quantity: int, **body: Any) -> Any:
    return api.post(HOLD_BEST, json={"eventId": event_id, "quantity": quantity, **body}, token=buyer.token)


def _best_seats(api: Any, buyer: Any, event_id: str, quantity: int, **body: Any) -> list[str]:
    """Asserts the hold-best succeeded; answers its seats as labels like 'A4'."""
    response = _hold_best(api, buyer, event_id, quantity, **body)
    assert response.status == 200, response.body
    return [f"{seat['row']}{seat['number']}" for seat in response.json()["seats"]]


def _take(db: Any, event: Any, labels: list[str], holder: str) -> None:
    """Given step: these seats (by label, in the event's single section) are held by someone else."""
    count = db.execute(
        "UPDATE event_seats es SET status = 'HELD', held_by = :holder, held_until = now() + interval '10 minutes'"
        " FROM venue_seats vs WHERE vs.id = es.venue_seat_id AND es.event_id = :event"
        " AND vs.row_label || vs.number = ANY(CAST(:labels AS text[]))",
        holder=holder,
        event=event.id,
        labels=labels,
    )
    assert count == len(labels)


def _free_runs(db: Any, event_id: str) -> list[tuple[str, int, int]]:
    """(row, first, last) of every run of free seats, front row first."""
    rows = db.rows(
        "SELECT row_label AS row, min(number) AS first, max(number) AS last FROM ("
        " SELECT vs.row_label, vs.row_index, vs.number,"
        "  vs.number - row_number() OVER (PARTITION BY vs.row_index ORDER BY vs.number) AS island"
        " FROM event_seats es JOIN venue_seats vs ON vs.id = es.venue_seat_id"
        " WHERE es.event_id = :event AND es.status = 'AVAILABLE') free"
        " GROUP BY row_label, row_index, island ORDER BY row_index, min(number)",
        event=event_id,
    )
    return [(row["row"], row["first"], row["last"]) for row in rows]


def test_the_best_block_is_in_the_front_row_nearest_its_centre(api: Any, accounts: Any, catalog: Any, db: Any) -> None:
    event = catalog.event(rows=3, seats_per_row=10)
    buyer = accounts.create()

    response = _hold_best(api, buyer, event.id, 4)

    assert response.status == 200, response.body
    body = response.json()
    assert [f"{s['row']}{s['number']}" for s in body["seats"]] == ["A4", "A5", "A6", "A7"]
    assert body["seatIds"] == [s["id"] for s in body["seats"]]
    assert {s["price"] for s in body["seats"]} == {2500}
    assert {s["section"] for s in body["seats"]} == {"Stalls"}
    assert body["holdTtlSeconds"] == 600
    assert body["heldUntil"].endswith("Z")
    held = db.rows(
        "SELECT id::text AS id FROM event_seats WHERE status = 'HELD' AND held_by = :buyer ORDER BY id", buyer=buyer.id
    )
    assert sorted(row["id"] for row in held) == sorted(body["seatIds"])


def test_a_row_without_room_for_the_block_is_passed_for_the_next_row(
    api: Any, accounts: Any, catalog: Any, db: Any
) -> None:
    event = catalog.event(rows=3, seats_per_row=10)
    _take(db, event, ["A3", "A7"], accounts.create().id)  # row A: runs 1-2, 4-6, 8-10

    assert _best_seats(api, accounts.create(), event.id, 4) == ["B4", "B5", "B6", "B7"]
    assert _best_seats(api, accounts.create(), event.id, 3) == ["A4", "A5", "A6"]


def test_a_block_that_would_strand_a_single_seat_gives_way_to_one_that_does_not(
    api: Any, accounts: Any, catalog: Any, db: Any
) -> None:
    # Row of 6: the centred block 2-5 would leave seats 1 and 6 alone; 1-4 leaves a pair.
    event = catalog.event(rows=2, seats_per_row=6)

    assert _best_seats(api, accounts.create(), event.id, 4) == ["A1", "A2", "A3", "A4"]
    assert _best_seats(api, accounts.create(), event.id, 2) == ["A5", "A6"]
    assert _free_runs(db, event.id) == [("B", 1, 6)]


def test_stranding_is_avoided_within_the_row_before_the_centre_is_preferred(
    api: Any, accounts: Any, catalog: Any, db: Any
) -> None:
    # Row A free: 1-3 and 7-10. For 2 seats, 2-3 (nearest the centre) would strand seat 1; 9-10 would strand
    # nothing but lies further out; 7-8 strands nothing and is nearer: it wins.
    event = catalog.event(rows=2, seats_per_row=10)
    _take(db, event, ["A4", "A5", "A6"], accounts.create().id)

    assert _best_seats(api, accounts.create(), event.id, 2) == ["A7", "A8"]


def test_when_every_block_of_the_front_row_strands_a_seat_the_front_row_still_wins(
    api: Any, accounts: Any, catalog: Any, db: Any
) -> None:
    event = catalog.event(rows=2, seats_per_row=5)
    _take(db, event, ["A1", "A5"], accounts.create().id)  # row A free: 2-4

    assert _best_seats(api, accounts.create(), event.id, 2) == ["A2", "A3"]


def test_rows_filled_block_by_block_end_full_with_no_stranded_seat(
    api: Any, accounts: Any, catalog: Any, db: Any
) -> None:
    event = catalog.event(rows=3, seats_per_row=8)
    buyers = [accounts.create() for _ in range(9)]

    taken = [_best_seats(api, buyer, event.id, quantity) for buyer, quantity in zip(buyers, [3, 3, 2] * 3, strict=True)]

    assert [labels[0][0] for labels in taken] == ["A", "A", "A", "B", "B", "B", "C", "C", "C"]
    assert _free_runs(db, event.id) == []
    refused = _hold_best(api, accounts.create(), event.id, 1)
    assert refused.status == 409
    assert refused.error_code == "NO_ADJACENT_SEATS"
    assert refused.json()["error"]["details"]["largestBlock"] == 0


def test_no_free_block_of_that_size_is_no_adjacent_seats_with_the_largest_block(
    api: Any, accounts: Any, catalog: Any, db: Any
) -> None:
    event = catalog.event(rows=2, seats_per_row=6)
    _take(db, event, ["A3", "B2", "B5"], accounts.create().id)  # largest free run: A4-A6
    buyer = accounts.create()

    response = _hold_best(api, buyer, event.id, 4)

    assert response.status == 409
    assert response.error_code == "NO_ADJACENT_SEATS"
    assert response.json()["error"]["details"]["largestBlock"] == 3
    assert db.value("SELECT count(*) FROM event_seats WHERE held_by = :buyer", buyer=buyer.id) == 0


def test_an_expired_hold_counts_as_free(api: Any, accounts: Any, catalog: Any, db: Any) -> None:
    event = catalog.event(rows=1, seats_per_row=4)
    _take(db, event, ["A1", "A2", "A3", "A4"], accounts.create().id)
    db.execute("UPDATE event_seats SET held_until = now() - interval '1 second' WHERE event_id = :e", e=event.id)
    buyer = accounts.create()

    assert _best_seats(api, buyer, event.id, 4) == ["A1", "A2", "A3", "A4"]
    assert db.value("SELECT count(*) FROM event_seats WHERE held_by = :b AND held_until > now()", b=buyer.id) == 4


def _add_section(db: Any, event: Any, name: str, *, rows: int, seats_per_row: int, price: int) -> str:
    section_id = str(
        db.value(
            "INSERT INTO sections (venue_id, name, rows, seats_per_row, created_at)"
            " VALUES (:venue, :name, :rows, :per_row, now() + interval '1 second') RETURNING id",
            venue=event.venue_id,
            name=name,
            rows=rows,
            per_row=seats_per_row,
        )
    )
    db.execute(
        "INSERT INTO venue_seats (section_id, row_index, row_label, number)"
        " SELECT :section, r, chr(64 + r), n FROM generate_series(1, :rows) r, generate_series(1, :per_row) n",
        section=section_id,
        rows=rows,
        per_row=seats_per_row,
    )
    db.execute(
        "INSERT INTO event_sections (event_id, section_id, price) VALUES (:event, :section, :price)",
        event=event.id,
        section=section_id,
        price=price,
    )
    db.execute(
        "INSERT INTO event_seats (event_id, section_id, venue_seat_id)"
        " SELECT :event, :section, id FROM venue_seats WHERE section_id = :section",
        event=event.id,
        section=section_id,
    )
    return section_id


def test_max_price_keeps_to_sections_priced_at_most_that(api: Any, accounts: Any, catalog: Any, db: Any) -> None:
    event = catalog.event(rows=2, seats_per_row=6, price=9000)
    _add_section(db, event, "Balcony", rows=3, seats_per_row=6, price=3000)

    response = _hold_best(api, accounts.create(), event.id, 2, maxPrice=5000)

    assert response.status == 200, response.body
    assert {(s["section"], s["price"]) for s in response.json()["seats"]} == {("Balcony", 3000)}
    too_cheap = _hold_best(api, accounts.create(), event.id, 2, maxPrice=2999)
    assert too_cheap.status == 409
    assert too_cheap.error_code == "NO_ADJACENT_SEATS"
    assert too_cheap.json()["error"]["details"]["largestBlock"] == 0


def test_section_id_keeps_to_that_section_and_an_equally_near_row_avoids_stranding(
    api: Any, accounts: Any, catalog: Any, db: Any
) -> None:
    event = catalog.event(rows=2, seats_per_row=5)
    balcony = _add_section(db, event, "Balcony", rows=2, seats_per_row=4, price=2500)

    # Stalls row A (5 seats) would strand a seat for 4; Balcony row A (4 seats) takes the block whole.
    anywhere = _hold_best(api, accounts.create(), event.id, 4)
    in_stalls = _hold_best(api, accounts.create(), event.id, 2, sectionId=event.section_id)

    assert anywhere.status == 200, anywhere.body
    assert [(s["section"], s["row"]) for s in anywhere.json()["seats"]] == [("Balcony", "A")] * 4
    assert in_stalls.status == 200, in_stalls.body
    assert {s["section"] for s in in_stalls.json()["seats"]} == {"Stalls"}
    assert balcony != event.section_id


def test_the_ticket_limit_counts_the_requested_quantity(api: Any, accounts: Any, catalog: Any, db: Any) -> None:
    event = catalog.event(rows=2, seats_per_row=10, max_tickets_per_user=4)
    buyer = accounts.create()
    assert len(_best_seats(api, buyer, event.id, 3)) == 3

    response = _hold_best(api, buyer, event.id, 2)

    assert response.status == 409
    assert response.error_code == "TICKET_LIMIT"
    assert response.json()["error"]["details"] == {"limit": 4, "current": 3, "requested": 2}
    assert db.value("SELECT count(*) FROM event_seats WHERE held_by = :b", b=buyer.id) == 3


def test_an_event_not_on_sale_is_refused(api: Any, accounts: Any, catalog: Any, db: Any) -> None:
    event = catalog.event(sales_open=False)

    response = _hold_best(api, accounts.create(), event.id, 2)

    assert response.status == 409
    assert response.error_code == "EVENT_NOT_ON_SALE"
    assert db.value("SELECT count(*) FROM event_seats WHERE status <> 'AVAILABLE'") == 0


@pytest.mark.parametrize(
    "body",
    [
        {"quantity": 0},
        {"quantity": 21},
        {"quantity": "2"},
        {"quantity": 2.5},
        {"quantity": 2, "maxPrice": -1},
        {"quantity": 2, "maxPrice": "100"},
        {"quantity": 2, "sectionId": "front"},
        {"quantity": 2, "seats": 2},
        {},
    ],
)
def test_bad_input_is_a_validation_error(api: Any, accounts: Any, catalog: Any, db: Any, body: dict[str, Any]) -> None:
    event = catalog.event()

    response = api.post(HOLD_BEST, json={"eventId": event.id, **body}, token=accounts.create().token)

    assert response.status == 422, response.body
    assert response.error_code == "VALIDATION_ERROR"
    assert db.value("SELECT count(*) FROM event_seats WHERE status <> 'AVAILABLE'") == 0


def test_a_section_that_is_not_part_of_the_event_is_a_validation_error(
    api: Any, accounts: Any, catalog: Any, db: Any
) -> None:
    event = catalog.event()
    other = catalog.event()

    unknown = _hold_best(api, accounts.create(), event.id, 2, sectionId=str(uuid.uuid4()))
    foreign = _hold_best(api, accounts.create(), event.id, 2, sectionId=other.section_id)

    for response in (unknown, foreign):
        assert response.status == 422
        assert response.json()["error"]["details"]["fields"][0]["field"] == "sectionId"
    assert db.value("SELECT count(*) FROM event_seats WHERE status <> 'AVAILABLE'") == 0


def test_an_unknown_event_is_not_found(api: Any, accounts: Any, db: Any) -> None:
    response = _hold_best(api, accounts.create(), str(uuid.uuid4()), 2)

    assert (response.status, response.error_code) == (404, "NOT_FOUND")
    assert db.value("SELECT count(*) FROM event_seats WHERE status = 'HELD'") == 0


def test_a_retry_with_the_same_idempotency_key_replays_the_first_hold(
    api: Any, accounts: Any, catalog: Any, db: Any
) -> None:
    event = catalog.event(rows=2, seats_per_row=10)
    buyer = accounts.create()
    headers = {"Idempotency-Key": "best-1"}
    body = {"eventId": event.id, "quantity": 2}

    first = api.post(HOLD_BEST, json=body, token=buyer.token, headers=headers)
    again = api.post(HOLD_BEST, json=body, token=buyer.token, headers=headers)
    different = api.post(HOLD_BEST, json={**body, "quantity": 3}, token=buyer.token, headers=headers)

    assert first.status == 200, first.body
    assert again.status == 200
    assert again.json() == first.json()
    assert again.header("Idempotent-Replayed") == "true"
    assert different.status == 422
    assert different.error_code == "IDEMPOTENCY_KEY_REUSED"
    assert db.value("SELECT count(*) FROM event_seats WHERE held_by = :b", b=buyer.id) == 2


def test_the_hold_is_an_ordinary_hold_that_a_booking_is_made_from(
    api: Any, accounts: Any, catalog: Any, db: Any
) -> None:
    event = catalog.event(rows=2, seats_per_row=10)
    buyer = accounts.create()
    held = _hold_best(api, buyer, event.id, 3)
    assert held.status == 200, held.body

    created = api.post("/api/bookings/create", json={"eventId": event.id}, token=buyer.token)

    assert created.status == 201, created.body
    assert sorted(item["seatId"] for item in created.json()["items"]) == sorted(held.json()["seatIds"])
    assert created.json()["total"] == 3 * 2500


def _lock_row(row_locker: Any, event: Any, row: str) -> None:
    """Another transaction is locking every seat of this row right now (as a buyer choosing there would)."""
    row_locker.lock(
        "SELECT es.id FROM event_seats es JOIN venue_seats vs ON vs.id = es.venue_seat_id"
        " WHERE es.event_id = :event AND vs.row_label = :row FOR UPDATE OF es",
        event=event.id,
        row=row,
    )


def test_a_row_another_buyer_is_locking_is_skipped_not_waited_for(
    api: Any, accounts: Any, catalog: Any, db: Any, row_locker: Any
) -> None:
    event = catalog.event(rows=3, seats_per_row=10)
    _lock_row(row_locker, event, "A")

    seats = _best_seats(api, accounts.create(), event.id, 4)

    assert seats == ["B4", "B5", "B6", "B7"]
    row_locker.release()
    assert _best_seats(api, accounts.create(), event.id, 4) == ["A4", "A5", "A6", "A7"]


def test_when_every_block_is_being_locked_the_buyer_is_told_to_retry(
    api: Any, accounts: Any, catalog: Any, db: Any, row_locker: Any
) -> None:
    event = catalog.event(rows=1, seats_per_row=10)
    _lock_row(row_locker, event, "A")
    buyer = accounts.create()

    response = _hold_best(api, buyer, event.id, 2)

    assert response.status == 409
    assert response.error_code == "SEATS_LOCKED"
    assert response.header("Retry-After") == "1"
    row_locker.release()
    assert db.value("SELECT count(*) FROM event_seats WHERE held_by = :b", b=buyer.id) == 0
    assert len(_best_seats(api, buyer, event.id, 2)) == 2
