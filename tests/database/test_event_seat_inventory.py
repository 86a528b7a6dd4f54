"""Event seats (migration 0007): each knows its place in the status string, and its event, section and venue
seat are checked once per statement instead of once per row."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from pg8000.exceptions import DatabaseError

from ticketing.db import transaction


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
    insert = (
        "INSERT INTO event_seats (event_id, section_id, venue_seat_id, seat_index)"
        " VALUES (:event, :section, :venue_seat, 0)"
    )

    unknown_seat = _sqlstate(insert, event=event.id, section=seat["section_id"], venue_seat=uuid.uuid4())
    unknown_event = _sqlstate(insert, event=uuid.uuid4(), section=seat["section_id"], venue_seat=seat["venue_seat_id"])
    foreign_seat = db.value("SELECT venue_seat_id FROM event_seats WHERE event_id = :id LIMIT 1", id=catalog.event().id)
    other_section = _sqlstate(insert, event=event.id, section=seat["section_id"], venue_seat=foreign_seat)

    assert (unknown_seat, unknown_event, other_section) == ("23503", "23503", "23503")
    assert db.value("SELECT count(*) FROM event_seats WHERE event_id = :id", id=event.id) == len(event.seat_ids)


def test_an_event_seat_never_moves_and_a_sold_venue_seat_stays(catalog: Any, db: Any) -> None:
    event, other = catalog.event(), catalog.event()

    moved = _sqlstate(
        "UPDATE event_seats SET event_id = :other WHERE id = :seat", other=other.id, seat=event.seat_ids[0]
    )
    deleted = _sqlstate("DELETE FROM venue_seats WHERE section_id = :section", section=event.section_id)

    assert (moved, deleted) == ("23503", "23503")


def test_deleting_an_event_deletes_its_seats_and_their_change_count(catalog: Any, db: Any) -> None:
    event, other = catalog.event(), catalog.event()
    db.execute("UPDATE event_seats SET hold_extensions = 0 WHERE event_id = :id", id=event.id)
    assert db.value("SELECT count(*) FROM event_seat_changes WHERE event_id = :id", id=event.id) == 1

    db.execute("DELETE FROM event_sections WHERE event_id = :id", id=event.id)
    db.execute("DELETE FROM events WHERE id = :id", id=event.id)

    assert db.value("SELECT count(*) FROM event_seats WHERE event_id = :id", id=event.id) == 0
    assert db.value("SELECT count(*) FROM event_seat_changes WHERE event_id = :id", id=event.id) == 0
    assert db.value("SELECT count(*) FROM event_seats WHERE event_id = :id", id=other.id) == len(other.seat_ids)
