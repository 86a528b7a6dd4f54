"""Event seats (migrations 0007, 0009): each knows its place in the status string, which is its venue seat's place
in the section, and its event, section, venue seat and place are checked once per statement instead of once per row."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from pg8000.exceptions import DatabaseError

from ticketing.db import transaction
from ticketing.errors import Conflict


def _sqlstate(sql: str, **params: Any) -> str:
    with pytest.raises(DatabaseError) as raised, transaction() as tx:
        tx.execute(sql, **params)
    return str(raised.value.args[0]["C"])


def test_a_seat_inserted_without_its_index_gets_it_from_its_venue_seat(catalog: Any, db: Any) -> None:
    event = catalog.event(rows=3, seats_per_row=4)

    indexes = db.rows(
        "SELECT vs.row_index, vs.number, es.seat_index FROM event_seats es JOIN venue_seats vs"
        " ON vs.id = es.venue_seat_id WHERE es.event_id = :event ORDER BY es.seat_index",
        event=event.id,
    )

    assert [(row["row_index"], row["number"]) for row in indexes] == [(r, n) for r in (1, 2, 3) for n in (1, 2, 3, 4)]
    assert [row["seat_index"] for row in indexes] == list(range(12))


def test_a_seat_of_an_unknown_venue_seat_or_event_is_refused(catalog: Any, db: Any) -> None:
    event = catalog.event()
    seat = db.rows("SELECT section_id, venue_seat_id FROM event_seats WHERE event_id = :id LIMIT 1", id=event.id)[0]
    # A place no seat of the section has, so only the references can refuse the row.
    insert = (
        "INSERT INTO event_seats (event_id, section_id, venue_seat_id, seat_index)"
        " VALUES (:event, :section, :venue_seat, 100000)"
    )

    unknown_seat = _sqlstate(insert, event=event.id, section=seat["section_id"], venue_seat=uuid.uuid4())
    unknown_event = _sqlstate(insert, event=uuid.uuid4(), section=seat["section_id"], venue_seat=seat["venue_seat_id"])
    foreign_seat = db.value("SELECT venue_seat_id FROM event_seats WHERE event_id = :id LIMIT 1", id=catalog.event().id)
    other_section = _sqlstate(insert, event=event.id, section=seat["section_id"], venue_seat=foreign_seat)

    assert (unknown_seat, unknown_event, other_section) == ("23503", "23503", "23503")
    assert db.value("SELECT count(*) FROM event_seats WHERE event_id = :id", id=event.id) == len(event.seat_ids)


def test_a_seat_at_another_place_than_its_venue_seat_is_refused(catalog: Any, db: Any) -> None:
    # Given an event whose last seat is deleted, leaving its place free
    event = catalog.event(rows=2, seats_per_row=2)
    last = db.rows(
        "DELETE FROM event_seats WHERE event_id = :id AND seat_index = 3 RETURNING section_id, venue_seat_id",
        id=event.id,
    )[0]
    first_venue_seat = db.value(
        "SELECT venue_seat_id FROM event_seats WHERE event_id = :id AND seat_index = 0", id=event.id
    )

    # When that place is filled with the first venue seat, or the last venue seat comes back at its own place
    misplaced = _sqlstate(
        "INSERT INTO event_seats (event_id, section_id, venue_seat_id, seat_index) VALUES (:event, :section, :seat, 3)",
        event=event.id,
        section=last["section_id"],
        seat=first_venue_seat,
    )
    db.execute(
        "INSERT INTO event_seats (event_id, section_id, venue_seat_id, seat_index) VALUES (:event, :section, :seat, 3)",
        event=event.id,
        section=last["section_id"],
        seat=last["venue_seat_id"],
    )

    # Then the misplaced seat is refused and the rightful one accepted
    assert misplaced == "23503"
    assert db.value("SELECT count(*) FROM event_seats WHERE event_id = :id", id=event.id) == 4


def test_a_venue_seat_is_sold_once_per_event(catalog: Any, db: Any) -> None:
    event = catalog.event()
    seat = db.rows(
        "SELECT section_id, venue_seat_id, seat_index FROM event_seats WHERE event_id = :id LIMIT 1", id=event.id
    )[0]

    with pytest.raises(Conflict) as refused, transaction() as tx:
        tx.execute(
            "INSERT INTO event_seats (event_id, section_id, venue_seat_id, seat_index)"
            " VALUES (:event, :section, :seat, :at)",
            event=event.id,
            section=seat["section_id"],
            seat=seat["venue_seat_id"],
            at=seat["seat_index"],
        )

    assert isinstance(refused.value.__cause__, DatabaseError)
    assert refused.value.__cause__.args[0]["C"] == "23505"
    assert db.value("SELECT count(*) FROM event_seats WHERE event_id = :id", id=event.id) == len(event.seat_ids)


def test_an_event_seat_never_moves_and_a_sold_venue_seat_stays(catalog: Any, db: Any) -> None:
    event, other = catalog.event(), catalog.event()

    moved = _sqlstate(
        "UPDATE event_seats SET event_id = :other WHERE id = :seat", other=other.id, seat=event.seat_ids[0]
    )
    re_placed = _sqlstate("UPDATE event_seats SET seat_index = 100000 WHERE id = :seat", seat=event.seat_ids[0])
    deleted = _sqlstate("DELETE FROM venue_seats WHERE section_id = :section", section=event.section_id)

    assert (moved, re_placed, deleted) == ("23503", "23503", "23503")


def test_deleting_an_event_deletes_its_seats_and_their_change_count(catalog: Any, db: Any) -> None:
    event, other = catalog.event(), catalog.event()
    db.execute("UPDATE event_seats SET hold_extensions = 0 WHERE event_id = :id", id=event.id)
    assert db.value("SELECT count(*) FROM event_seat_changes WHERE event_id = :id", id=event.id) == 1

    db.execute("DELETE FROM event_sections WHERE event_id = :id", id=event.id)
    db.execute("DELETE FROM events WHERE id = :id", id=event.id)

    assert db.value("SELECT count(*) FROM event_seats WHERE event_id = :id", id=event.id) == 0
    assert db.value("SELECT count(*) FROM event_seat_changes WHERE event_id = :id", id=event.id) == 0
    assert db.value("SELECT count(*) FROM event_seats WHERE event_id = :id", id=other.id) == len(other.seat_ids)
