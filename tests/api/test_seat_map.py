"""The seat map (docs/api.md): every seat with its effective status, filters, gzip, ETag/304 and the size limit."""

from __future__ import annotations

import gzip
import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest


def _seats(event: Any) -> str:
    return f"/api/events/{event.id}/seats"


def _statuses(body: dict[str, Any]) -> dict[str, str]:
    return {
        seat["id"]: seat["status"] for section in body["sections"] for row in section["rows"] for seat in row["seats"]
    }


def _hold(db: Any, seat_ids: list[str], user_id: str, *, minutes: int) -> None:
    db.execute(
        "UPDATE event_seats SET status = 'HELD', held_by = :user, held_until = now() + make_interval(mins => :minutes)"
        " WHERE id = ANY(CAST(:seats AS uuid[]))",
        user=user_id,
        minutes=minutes,
        seats=seat_ids,
    )


def _book(db: Any, event: Any, seat_id: str, user_id: str) -> None:
    booking_id = db.value(
        "WITH booking AS ("
        " INSERT INTO bookings (user_id, event_id, status, subtotal, total, currency, expires_at, confirmed_at)"
        " VALUES (:user, :event, 'CONFIRMED', 2500, 2500, 'EUR', now(), now()) RETURNING id)"
        " INSERT INTO booking_items (booking_id, booking_status, event_seat_id, price)"
        " SELECT id, 'CONFIRMED', :seat, 2500 FROM booking RETURNING booking_id",
        user=user_id,
        event=event.id,
        seat=seat_id,
    )
    db.execute(
        "UPDATE event_seats SET status = 'BOOKED', held_by = :user, held_until = now(),"
        " booking_id = :booking, booking_status = 'CONFIRMED' WHERE id = :seat",
        user=user_id,
        booking=booking_id,
        seat=seat_id,
    )


def test_the_map_lists_sections_rows_and_seats_in_order(api: Any, catalog: Any) -> None:
    event = catalog.event(rows=2, seats_per_row=3, price=2500)

    response = api.get(_seats(event))

    assert response.status == 200
    body = response.json()
    assert body["eventId"] == event.id
    [section] = body["sections"]
    assert (section["id"], section["name"], section["price"]) == (event.section_id, "Stalls", 2500)
    assert [row["label"] for row in section["rows"]] == ["A", "B"]
    assert [[seat["number"] for seat in row["seats"]] for row in section["rows"]] == [[1, 2, 3], [1, 2, 3]]
    assert [seat["id"] for row in section["rows"] for seat in row["seats"]] == event.seat_ids
    assert body["counts"] == {"available": 6, "held": 0, "booked": 0}


def test_an_expired_hold_shows_available_next_to_live_holds_and_booked_seats(
    api: Any, accounts: Any, catalog: Any, db: Any
) -> None:
    event = catalog.event(rows=1, seats_per_row=4)
    buyer = accounts.create("USER")
    _hold(db, [event.seat_ids[0]], buyer.id, minutes=5)
    _hold(db, [event.seat_ids[1]], buyer.id, minutes=-1)
    _book(db, event, event.seat_ids[2], buyer.id)

    body = api.get(_seats(event)).json()

    assert _statuses(body) == dict(zip(event.seat_ids, ["HELD", "AVAILABLE", "BOOKED", "AVAILABLE"], strict=True))
    assert body["counts"] == {"available": 2, "held": 1, "booked": 1}


def test_the_status_filter_lists_only_those_seats_but_counts_stay_whole(
    api: Any, accounts: Any, catalog: Any, db: Any
) -> None:
    event = catalog.event(rows=2, seats_per_row=2)
    _hold(db, [event.seat_ids[0], event.seat_ids[3]], accounts.create("USER").id, minutes=5)

    held = api.get(_seats(event), query={"status": "HELD"}).json()
    both = api.get(_seats(event), query={"status": "AVAILABLE,HELD"}).json()
    booked = api.get(_seats(event), query={"status": "BOOKED"}).json()

    assert list(_statuses(held)) == [event.seat_ids[0], event.seat_ids[3]]
    assert [row["label"] for row in held["sections"][0]["rows"]] == ["A", "B"]
    assert held["counts"] == {"available": 2, "held": 2, "booked": 0}
    assert len(_statuses(both)) == 4
    assert booked["sections"][0]["rows"] == []


def test_an_unknown_status_is_a_422(api: Any, catalog: Any) -> None:
    event = catalog.event()

    response = api.get(_seats(event), query={"status": "AVAILABLE,SOLD"})

    assert response.status == 422
    assert response.json()["error"]["details"]["fields"][0]["field"] == "status"


def test_the_section_filter_limits_map_and_counts(api: Any, catalog: Any, db: Any) -> None:
    event = catalog.event(rows=1, seats_per_row=2)
    second = db.value(
        "INSERT INTO sections (venue_id, name, rows, seats_per_row) VALUES (:venue, 'Balcony', 1, 3) RETURNING id",
        venue=event.venue_id,
    )
    db.execute(
        "INSERT INTO venue_seats (section_id, row_index, row_label, number)"
        " SELECT :section, 1, 'A', n FROM generate_series(1, 3) n",
        section=second,
    )
    db.execute(
        "INSERT INTO event_sections (event_id, section_id, price) VALUES (:event, :section, 900)",
        event=event.id,
        section=second,
    )
    db.execute(
        "INSERT INTO event_seats (event_id, section_id, venue_seat_id)"
        " SELECT :event, section_id, id FROM venue_seats WHERE section_id = :section",
        event=event.id,
        section=second,
    )

    whole = api.get(_seats(event)).json()
    balcony = api.get(_seats(event), query={"sectionId": str(second)}).json()

    assert [section["name"] for section in whole["sections"]] == ["Stalls", "Balcony"]
    assert whole["counts"]["available"] == 5
    assert [(section["name"], section["price"]) for section in balcony["sections"]] == [("Balcony", 900)]
    assert balcony["counts"] == {"available": 3, "held": 0, "booked": 0}


def test_a_section_of_another_event_is_a_404(api: Any, catalog: Any) -> None:
    event = catalog.event()
    other = catalog.event()

    response = api.get(_seats(event), query={"sectionId": other.section_id})

    assert (response.status, response.error_code) == (404, "NOT_FOUND")


def test_a_bad_section_id_is_a_422(api: Any, catalog: Any) -> None:
    event = catalog.event()

    response = api.get(_seats(event), query={"sectionId": "balcony"})

    assert (response.status, response.error_code) == (422, "VALIDATION_ERROR")
    assert [f["field"] for f in response.json()["error"]["details"]["fields"]] == ["sectionId"]


def test_a_drafts_map_is_hidden_from_the_public(api: Any, accounts: Any, catalog: Any) -> None:
    organizer = accounts.create("ORGANIZER")
    event = catalog.event(status="DRAFT", organizer_id=organizer.id)

    anonymous = api.get(_seats(event))
    owner = api.get(_seats(event), token=organizer.token)

    assert anonymous.status == 404
    assert owner.status == 200
    assert owner.header("Cache-Control") == "private, no-store"


def test_the_map_of_an_unknown_event_is_a_404(api: Any) -> None:
    response = api.get(f"/api/events/{uuid.uuid4()}/seats")

    assert response.status == 404
    assert response.error_code == "NOT_FOUND"


def test_the_map_is_gzipped_when_the_client_accepts_it(api: Any, catalog: Any) -> None:
    event = catalog.event(rows=5, seats_per_row=20)
    plain = api.get(_seats(event))

    response = api.get(_seats(event), headers={"Accept-Encoding": "gzip, deflate"})

    assert response.status == 200
    assert response.header("Content-Encoding") == "gzip"
    assert response.header("Vary") == "Accept-Encoding"
    assert len(response.body) < len(plain.body) / 3
    assert json.loads(gzip.decompress(response.body)) == plain.json()
    assert plain.header("Content-Encoding") is None


def test_gzip_refused_with_q_zero_is_not_used(api: Any, catalog: Any) -> None:
    event = catalog.event()

    response = api.get(_seats(event), headers={"Accept-Encoding": "gzip;q=0, identity"})

    assert response.header("Content-Encoding") is None
    assert response.json()["eventId"] == event.id


def test_a_matching_if_none_match_is_a_304_without_body(api: Any, catalog: Any) -> None:
    event = catalog.event()
    first = api.get(_seats(event))
    etag = first.header("ETag")

    response = api.get(_seats(event), headers={"If-None-Match": etag})

    assert etag is not None
    assert etag.startswith('"')
    assert not etag.startswith("W/")
    assert first.header("Cache-Control") == "no-cache"
    assert response.status == 304
    assert response.body == b""
    assert response.header("ETag") == etag


def test_the_etag_changes_when_a_seat_changes(api: Any, accounts: Any, catalog: Any, db: Any) -> None:
    event = catalog.event()
    etag = api.get(_seats(event)).header("ETag")
    _hold(db, [event.seat_ids[0]], accounts.create("USER").id, minutes=5)

    response = api.get(_seats(event), headers={"If-None-Match": etag})

    assert response.status == 200
    assert response.header("ETag") != etag
    assert _statuses(response.json())[event.seat_ids[0]] == "HELD"


def test_the_etag_changes_when_a_hold_expires(api: Any, accounts: Any, catalog: Any, db: Any) -> None:
    event = catalog.event()
    _hold(db, [event.seat_ids[0]], accounts.create("USER").id, minutes=5)
    etag = api.get(_seats(event)).header("ETag")
    db.execute("UPDATE event_seats SET held_until = now() - interval '1 second' WHERE id = :id", id=event.seat_ids[0])

    response = api.get(_seats(event), headers={"If-None-Match": etag})

    assert response.status == 200
    assert _statuses(response.json())[event.seat_ids[0]] == "AVAILABLE"


def test_the_etag_of_a_filtered_map_never_revalidates_the_full_map(api: Any, catalog: Any) -> None:
    event = catalog.event()
    filtered_etag = api.get(_seats(event), query={"status": "HELD"}).header("ETag")

    response = api.get(_seats(event), headers={"If-None-Match": filtered_etag})

    assert response.status == 200
    assert len(_statuses(response.json())) == len(event.seat_ids)


def test_the_etag_changes_when_the_event_changes_though_no_seat_does(api: Any, catalog: Any, db: Any) -> None:
    event = catalog.event()
    etag = api.get(_seats(event)).header("ETag")
    # What a price change on a draft does: new prices and a new event version.
    db.execute("UPDATE event_sections SET price = 3000 WHERE event_id = :id", id=event.id)
    db.execute("UPDATE events SET version = version + 1 WHERE id = :id", id=event.id)

    response = api.get(_seats(event), headers={"If-None-Match": etag})

    assert response.status == 200
    assert response.json()["sections"][0]["price"] == 3000


def test_a_gzipped_304_works_with_the_same_etag(api: Any, catalog: Any) -> None:
    event = catalog.event()
    etag = api.get(_seats(event), headers={"Accept-Encoding": "gzip"}).header("ETag")

    response = api.get(_seats(event), headers={"Accept-Encoding": "gzip", "If-None-Match": f'W/"x", {etag}'})

    assert response.status == 304
    assert (response.body, response.header("ETag")) == (b"", etag)


@pytest.fixture
def small_response_limit(monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    """Shrinks the response budget so the size guard is tested without building a stadium."""
    from ticketing.config import get_settings

    monkeypatch.setenv("MAX_RESPONSE_BYTES", "4096")
    get_settings.cache_clear()
    yield 4096
    monkeypatch.delenv("MAX_RESPONSE_BYTES")
    get_settings.cache_clear()


def test_a_map_too_large_without_gzip_is_a_413_that_says_how_to_get_it(
    api: Any, catalog: Any, small_response_limit: int
) -> None:
    event = catalog.event(rows=5, seats_per_row=20)

    response = api.get(_seats(event))

    assert response.status == 413
    error = response.json()["error"]
    assert error["code"] == "PAYLOAD_TOO_LARGE"
    for hint in ("sectionId", "status", "gzip"):
        assert hint in error["message"]
    assert error["details"]["narrowWith"] == ["sectionId", "status"]
    assert error["details"]["acceptEncoding"] == "gzip"
    assert error["details"]["responseBytes"] > small_response_limit


def test_the_same_map_is_served_gzipped_or_narrowed(api: Any, catalog: Any, small_response_limit: int) -> None:
    event = catalog.event(rows=5, seats_per_row=20)

    gzipped = api.get(_seats(event), headers={"Accept-Encoding": "gzip"})
    narrowed = api.get(_seats(event), query={"status": "HELD"})

    assert gzipped.status == 200
    assert len(json.loads(gzip.decompress(gzipped.body))["sections"][0]["rows"]) == 5
    assert narrowed.status == 200
    assert narrowed.json()["sections"][0]["rows"] == []  # nothing is held: every seat is filtered out


def test_a_full_stadium_map_fits_only_gzipped(api: Any, accounts: Any, db: Any) -> None:
    """100,000 seats built through the API: about 8 MB of JSON, so plain is a 413 and gzip is a 200."""
    admin = accounts.create("ADMIN")
    organizer = accounts.create("ORGANIZER")
    created_venue = api.post(
        "/api/venues",
        json={"name": "Stadium", "address": "1 Ring", "city": "Rome", "country": "IT", "timezone": "Europe/Rome"},
        token=admin.token,
    )
    assert created_venue.status == 201, created_venue.body
    venue = created_venue.json()
    section = api.post(
        f"/api/venues/{venue['id']}/sections",
        json={"name": "Bowl", "rows": 500, "seatsPerRow": 200, "defaultPrice": 5000},
        token=admin.token,
    )
    assert section.status == 201, section.body
    created = api.post(
        "/api/events",
        json={
            "venueId": venue["id"],
            "title": "Final",
            "category": "SPORT",
            "startsAt": "2099-06-01T18:00:00Z",
            "endsAt": "2099-06-01T20:00:00Z",
            "currency": "EUR",
        },
        token=organizer.token,
    )
    assert created.status == 201, created.body
    event_id = created.json()["id"]
    assert db.value("SELECT count(*) FROM event_seats WHERE event_id = :id", id=event_id) == 100_000

    plain = api.get(f"/api/events/{event_id}/seats", token=organizer.token)
    gzipped = api.get(f"/api/events/{event_id}/seats", token=organizer.token, headers={"Accept-Encoding": "gzip"})

    assert plain.status == 413
    assert gzipped.status == 200
    body = json.loads(gzip.decompress(gzipped.body))
    assert body["counts"] == {"available": 100_000, "held": 0, "booked": 0}
    assert body["sections"][0]["rows"][-1]["label"] == "SF"
    assert len(gzipped.body) * 4 / 3 < 6_000_000
