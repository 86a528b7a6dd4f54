"""The compact live seat status (docs/seat-maps.md): one letter per seat in row-then-number order, counts,
expired holds, the section filter, visibility, gzip, per-encoding ETags and cheap 304s, maps of any size."""

from __future__ import annotations

import gzip
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pg8000.native
import pytest

from ticketing.db.dsn import parse_database_url


def _status(event_id: str) -> str:
    return f"/api/events/{event_id}/seats/status"


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


class StagedEvent:
    """A PUBLISHED event on sale, built through the API on a venue with the given sections."""

    def __init__(self, api: Any, accounts: Any, *sections: tuple[str, int, int]) -> None:
        admin, self.organizer = accounts.create("ADMIN"), accounts.create("ORGANIZER")
        venue = api.post(
            "/api/venues",
            json={"name": "Bowl", "address": "1 Ring", "city": "Rome", "country": "IT", "timezone": "UTC"},
            token=admin.token,
        )
        assert venue.status == 201, venue.body
        self.section_ids: list[str] = []
        for name, rows, per_row in sections:
            section = api.post(
                f"/api/venues/{venue.json()['id']}/sections",
                json={"name": name, "rows": rows, "seatsPerRow": per_row, "defaultPrice": 1000 * rows},
                token=admin.token,
            )
            assert section.status == 201, section.body
            self.section_ids.append(section.json()["id"])
        starts = datetime.now(UTC) + timedelta(days=30)
        event = api.post(
            "/api/events",
            json={
                "venueId": venue.json()["id"],
                "title": "Cup Final",
                "category": "SPORT",
                "startsAt": _iso(starts),
                "endsAt": _iso(starts + timedelta(hours=2)),
                "currency": "EUR",
            },
            token=self.organizer.token,
        )
        assert event.status == 201, event.body
        self.id: str = event.json()["id"]
        published = api.post(f"/api/events/{self.id}/publish", token=self.organizer.token)
        assert published.status == 200, published.body
        seat_map = api.get(f"/api/events/{self.id}/seats").json()
        # (section index, row label, number) -> seat id, from the full seat map
        self.seat_ids = {
            (index, row["label"], seat["number"]): seat["id"]
            for index, section in enumerate(seat_map["sections"])
            for row in section["rows"]
            for seat in row["seats"]
        }


def _hold(api: Any, buyer: Any, event: StagedEvent, *seats: tuple[int, str, int]) -> None:
    held = api.post(
        "/api/bookings/hold-seats",
        json={"eventId": event.id, "seatIds": [event.seat_ids[seat] for seat in seats]},
        token=buyer.token,
    )
    assert held.status == 200, held.body


def _buy(api: Any, buyer: Any, event: StagedEvent, *seats: tuple[int, str, int]) -> None:
    _hold(api, buyer, event, *seats)
    booking = api.post("/api/bookings/create", json={"eventId": event.id}, token=buyer.token)
    assert booking.status == 201, booking.body
    paid = api.post(
        f"/api/bookings/{booking.json()['id']}/confirm",
        json={"paymentToken": "tok_visa", "amount": booking.json()["total"], "version": booking.json()["version"]},
        token=buyer.token,
    )
    assert paid.status == 200, paid.body


def _expire_holds(db: Any, event: StagedEvent, *seats: tuple[int, str, int]) -> None:
    """As if time had passed: the holds run out without any write the change counter would see (switching a
    trigger off is the tables' owner's right, not the application role's)."""
    with db.as_owner() as tx:
        tx.execute("ALTER TABLE event_seats DISABLE TRIGGER event_seats_count_changes")
        tx.execute(
            "UPDATE event_seats SET held_until = now() - interval '1 second' WHERE id = ANY(CAST(:ids AS uuid[]))",
            ids=[event.seat_ids[seat] for seat in seats],
        )
        tx.execute("ALTER TABLE event_seats ENABLE TRIGGER event_seats_count_changes")


def test_one_letter_per_seat_row_by_row_then_by_number_with_counts(api: Any, accounts: Any) -> None:
    event = StagedEvent(api, accounts, ("Floor", 3, 4), ("Tower", 500, 1))
    _hold(api, accounts.create("USER"), event, (0, "B", 2), (0, "A", 4))
    _buy(api, accounts.create("USER"), event, (0, "C", 1))

    response = api.get(_status(event.id))

    assert response.status == 200
    body = response.json()
    assert body["eventId"] == event.id
    assert abs(datetime.fromisoformat(body["serverTime"]) - datetime.now(UTC)) < timedelta(minutes=5)
    floor, tower = body["sections"]
    assert {key: floor[key] for key in ("id", "name", "price", "rows", "seatsPerRow")} == {
        "id": event.section_ids[0],
        "name": "Floor",
        "price": 3000,
        "rows": 3,
        "seatsPerRow": 4,
    }
    assert floor["rowLabels"] == ["A", "B", "C"]
    assert floor["seats"] == "AAAH" + "AHAA" + "BAAA"
    assert (tower["rows"], tower["seatsPerRow"]) == (500, 1)
    assert tower["rowLabels"][:3] == ["A", "B", "C"]
    assert tower["rowLabels"][25:28] == ["Z", "AA", "AB"]
    assert tower["rowLabels"][-1] == "SF"
    assert tower["seats"] == "A" * 500
    assert body["counts"] == {"available": 12 - 3 + 500, "held": 2, "booked": 1}


def test_an_expired_hold_and_an_overdue_pending_booking_read_available(api: Any, accounts: Any, db: Any) -> None:
    event = StagedEvent(api, accounts, ("Floor", 1, 4))
    buyer, late_payer = accounts.create("USER"), accounts.create("USER")
    _hold(api, buyer, event, (0, "A", 1), (0, "A", 2))
    _hold(api, late_payer, event, (0, "A", 3))
    pending = api.post("/api/bookings/create", json={"eventId": event.id}, token=late_payer.token)
    assert pending.status == 201, pending.body
    _expire_holds(db, event, (0, "A", 1), (0, "A", 3))

    body = api.get(_status(event.id)).json()

    assert body["sections"][0]["seats"] == "AHAA"
    assert body["counts"] == {"available": 3, "held": 1, "booked": 0}
    assert db.value("SELECT count(*) FROM event_seats WHERE status = 'HELD'") == 3


def test_the_section_filter_narrows_sections_and_counts(api: Any, accounts: Any) -> None:
    event = StagedEvent(api, accounts, ("Floor", 1, 2), ("Balcony", 2, 3))
    _hold(api, accounts.create("USER"), event, (1, "B", 3))

    body = api.get(_status(event.id), query={"sectionId": event.section_ids[1]}).json()

    assert [section["name"] for section in body["sections"]] == ["Balcony"]
    assert body["sections"][0]["seats"] == "AAAAAH"
    assert body["counts"] == {"available": 5, "held": 1, "booked": 0}


def test_a_section_of_another_event_is_a_404_and_a_malformed_one_a_422(api: Any, catalog: Any) -> None:
    event, other = catalog.event(), catalog.event()

    foreign = api.get(_status(event.id), query={"sectionId": other.section_id})
    malformed = api.get(_status(event.id), query={"sectionId": "balcony"})

    assert (foreign.status, foreign.error_code) == (404, "NOT_FOUND")
    assert (malformed.status, malformed.error_code) == (422, "VALIDATION_ERROR")
    assert [f["field"] for f in malformed.json()["error"]["details"]["fields"]] == ["sectionId"]


def test_a_drafts_status_is_its_organizers_only_and_never_stored(api: Any, accounts: Any, catalog: Any) -> None:
    organizer = accounts.create("ORGANIZER")
    event = catalog.event(status="DRAFT", organizer_id=organizer.id)

    anonymous = api.get(_status(event.id))
    stranger = api.get(_status(event.id), token=accounts.create("ORGANIZER").token)
    owner = api.get(_status(event.id), token=organizer.token)

    assert (anonymous.status, stranger.status) == (404, 404)
    assert owner.status == 200
    assert owner.header("Cache-Control") == "private, no-store"
    assert owner.json()["sections"][0]["seats"] == "A" * 10


def test_an_unknown_event_is_a_404(api: Any) -> None:
    response = api.get(_status(str(uuid.uuid4())))

    assert response.status == 404
    assert response.error_code == "NOT_FOUND"


def test_gzip_carries_the_same_document_under_its_own_etag(api: Any, catalog: Any) -> None:
    event = catalog.event(rows=10, seats_per_row=40)
    plain = api.get(_status(event.id))

    zipped = api.get(_status(event.id), headers={"Accept-Encoding": "gzip"})

    assert zipped.status == 200
    assert zipped.header("Content-Encoding") == "gzip"
    assert zipped.header("Vary") == "Accept-Encoding"
    decoded = json.loads(gzip.decompress(zipped.body))
    assert {**decoded, "serverTime": None} == {**plain.json(), "serverTime": None}
    assert plain.header("Content-Encoding") is None
    assert plain.header("ETag") != zipped.header("ETag")
    assert all(response.header("ETag") for response in (plain, zipped))
    assert not any((response.header("ETag") or "").startswith("W/") for response in (plain, zipped))


def test_a_current_copy_is_a_304_per_encoding(api: Any, catalog: Any) -> None:
    event = catalog.event()
    plain_etag = api.get(_status(event.id)).header("ETag")
    gzip_etag = api.get(_status(event.id), headers={"Accept-Encoding": "gzip"}).header("ETag")

    plain_again = api.get(_status(event.id), headers={"If-None-Match": plain_etag})
    gzip_again = api.get(_status(event.id), headers={"If-None-Match": gzip_etag, "Accept-Encoding": "gzip"})
    plain_tag_for_gzip = api.get(_status(event.id), headers={"If-None-Match": plain_etag, "Accept-Encoding": "gzip"})

    assert (plain_again.status, plain_again.body, plain_again.header("ETag")) == (304, b"", plain_etag)
    assert (gzip_again.status, gzip_again.header("ETag")) == (304, gzip_etag)
    assert plain_tag_for_gzip.status == 200
    assert plain_tag_for_gzip.header("ETag") == gzip_etag


def test_the_etag_changes_when_a_seat_is_held_and_when_the_hold_expires(api: Any, accounts: Any, db: Any) -> None:
    event = StagedEvent(api, accounts, ("Floor", 1, 3))
    before = api.get(_status(event.id)).header("ETag")
    _hold(api, accounts.create("USER"), event, (0, "A", 2))

    after_hold = api.get(_status(event.id), headers={"If-None-Match": before})
    _expire_holds(db, event, (0, "A", 2))
    after_expiry = api.get(_status(event.id), headers={"If-None-Match": after_hold.header("ETag")})

    assert after_hold.status == 200
    assert after_hold.json()["sections"][0]["seats"] == "AHA"
    assert after_hold.header("ETag") != before
    assert after_expiry.status == 200
    assert after_expiry.json()["sections"][0]["seats"] == "AAA"
    assert after_expiry.header("ETag") not in (before, after_hold.header("ETag"))


def test_every_committed_seat_change_counts_once_per_statement(api: Any, accounts: Any, db: Any) -> None:
    event = StagedEvent(api, accounts, ("Floor", 1, 3))
    counted = "SELECT coalesce(sum(changes), 0) FROM event_seat_changes WHERE event_id = :event"
    before = db.value(counted, event=event.id)

    _hold(api, accounts.create("USER"), event, (0, "A", 1), (0, "A", 2))
    db.execute("UPDATE event_seats SET hold_extensions = hold_extensions WHERE event_id = :event", event=event.id)

    assert db.value(counted, event=event.id) == before + 2


def test_a_busy_counter_never_makes_a_hold_wait(api: Any, accounts: Any, database_url: str) -> None:
    event = StagedEvent(api, accounts, ("Floor", 1, 3))
    _hold(api, accounts.create("USER"), event, (0, "A", 1))
    # Another transaction has just changed a seat of the event and keeps its counter slot locked.
    other = pg8000.native.Connection(**parse_database_url(database_url).as_pg8000_kwargs())
    try:
        other.run("BEGIN")
        other.run(
            "UPDATE event_seats SET hold_extensions = hold_extensions WHERE id = CAST(:id AS uuid)",
            id=event.seat_ids[(0, "A", 3)],
        )

        _hold(api, accounts.create("USER"), event, (0, "A", 2))

        slots = other.run("SELECT count(*) FROM event_seat_changes WHERE event_id = CAST(:id AS uuid)", id=event.id)
    finally:
        other.run("ROLLBACK")
        other.close()
    assert slots[0][0] == 2


def test_a_map_too_large_for_the_seat_list_is_served_in_compact_form(
    api: Any, catalog: Any, fresh_settings: pytest.MonkeyPatch
) -> None:
    # The limit is scaled down with the map: the full seat map cannot be sent even gzipped, the status can.
    fresh_settings.setenv("MAX_RESPONSE_BYTES", "60000")
    event = catalog.event(rows=26, seats_per_row=100)

    seat_list = api.get(f"/api/events/{event.id}/seats", headers={"Accept-Encoding": "gzip"})
    status = api.get(_status(event.id))

    assert seat_list.status == 413
    assert status.status == 200
    assert status.json()["sections"][0]["seats"] == "A" * 2600
    assert len(status.body) < 60000
