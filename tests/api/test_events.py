"""Events (docs/api.md): create, update, publish, cancel, list and read events, with who may do and see what."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

EVENTS = "/api/events"


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _in_days(days: float) -> str:
    return _iso(datetime.now(UTC) + timedelta(days=days))


class Venue:
    """A venue built through the API: sections as (name, rows, seats per row, default price)."""

    def __init__(self, api: Any, admin: Any, *sections: tuple[str, int, int, int | None]) -> None:
        created = api.post(
            "/api/venues",
            json={"name": "Arena", "address": "1 Ring", "city": "Munich", "country": "DE", "timezone": "Europe/Berlin"},
            token=admin.token,
        )
        assert created.status == 201, created.body
        self.id: str = created.json()["id"]
        self.section_ids: dict[str, str] = {}
        for name, rows, per_row, default_price in sections:
            body: dict[str, Any] = {"name": name, "rows": rows, "seatsPerRow": per_row}
            if default_price is not None:
                body["defaultPrice"] = default_price
            section = api.post(f"/api/venues/{self.id}/sections", json=body, token=admin.token)
            assert section.status == 201, section.body
            self.section_ids[name] = section.json()["id"]


@pytest.fixture
def admin(accounts: Any) -> Any:
    return accounts.create("ADMIN")


@pytest.fixture
def organizer(accounts: Any) -> Any:
    return accounts.create("ORGANIZER")


@pytest.fixture
def venue(api: Any, admin: Any) -> Venue:
    return Venue(api, admin, ("Floor", 2, 5, 4000), ("Tier", 1, 4, 2500))


def _event_body(venue: Venue, **overrides: Any) -> dict[str, Any]:
    return {
        "venueId": venue.id,
        "title": "Symphony No. 9",
        "description": "Beethoven, with choir",
        "category": "CLASSICAL",
        "startsAt": _in_days(30),
        "endsAt": _in_days(30.1),
        "currency": "EUR",
        "prices": [],
        **overrides,
    }


def _create(api: Any, caller: Any, venue: Venue, **overrides: Any) -> Any:
    return api.post(EVENTS, json=_event_body(venue, **overrides), token=caller.token)


def _created(api: Any, caller: Any, venue: Venue, **overrides: Any) -> dict[str, Any]:
    response = _create(api, caller, venue, **overrides)
    assert response.status == 201, response.body
    return response.json()


def _field_names(response: Any) -> list[str]:
    return [problem["field"] for problem in response.json()["error"]["details"]["fields"]]


# --- create ---------------------------------------------------------------------------------------------------


def test_an_organizer_creates_a_draft_with_one_seat_per_venue_seat(
    api: Any, organizer: Any, venue: Venue, db: Any
) -> None:
    response = _create(api, organizer, venue, prices=[{"sectionId": venue.section_ids["Tier"], "price": 1999}])

    assert response.status == 201
    event = response.json()
    assert event["status"] == "DRAFT"
    assert event["version"] == 1
    assert event["maxTicketsPerUser"] == 10
    assert event["venue"] == {"id": venue.id, "name": "Arena", "city": "Munich"}
    assert [(s["name"], s["price"], s["available"], s["held"], s["booked"]) for s in event["sections"]] == [
        ("Floor", 4000, 10, 0, 0),
        ("Tier", 1999, 4, 0, 0),
    ]
    stored = db.rows("SELECT organizer_id, status FROM events")
    assert stored == [{"organizer_id": uuid.UUID(organizer.id), "status": "DRAFT"}]
    assert (
        db.value("SELECT count(*) FROM event_seats WHERE event_id = :id AND status = 'AVAILABLE'", id=event["id"]) == 14
    )


def test_an_admin_may_create_events_too(api: Any, admin: Any, venue: Venue, db: Any) -> None:
    response = _create(api, admin, venue)

    assert response.status == 201, response.body
    assert response.json()["status"] == "DRAFT"
    assert db.rows("SELECT id::text AS id, organizer_id::text AS organizer FROM events") == [
        {"id": response.json()["id"], "organizer": admin.id}
    ]


def test_users_cannot_create_events(api: Any, accounts: Any, venue: Venue, db: Any) -> None:
    response = _create(api, accounts.create("USER"), venue)

    assert response.status == 403
    assert db.value("SELECT count(*) FROM events") == 0


def test_creating_an_event_needs_a_token(api: Any, venue: Venue, db: Any) -> None:
    response = api.post(EVENTS, json=_event_body(venue))

    assert response.status == 401
    assert db.value("SELECT count(*) FROM events") == 0


def test_a_section_with_neither_price_nor_default_is_named_in_a_422(
    api: Any, admin: Any, organizer: Any, db: Any
) -> None:
    venue = Venue(api, admin, ("Floor", 1, 2, 4000), ("Boxes", 1, 2, None))

    response = _create(api, organizer, venue)

    assert response.status == 422
    error = response.json()["error"]
    assert "Boxes" in error["message"]
    assert error["details"]["sectionIds"] == [venue.section_ids["Boxes"]]
    assert db.value("SELECT count(*) FROM events") == 0
    assert db.value("SELECT count(*) FROM event_seats") == 0


def test_a_price_for_a_section_of_another_venue_is_a_422(
    api: Any, admin: Any, organizer: Any, venue: Venue, db: Any
) -> None:
    other = Venue(api, admin, ("Elsewhere", 1, 1, 100))

    response = _create(api, organizer, venue, prices=[{"sectionId": other.section_ids["Elsewhere"], "price": 5}])

    assert response.status == 422
    assert _field_names(response) == ["prices"]
    assert db.value("SELECT count(*) FROM events") == 0


def test_an_unknown_venue_is_a_422_on_venue_id(api: Any, organizer: Any, venue: Venue, db: Any) -> None:
    response = api.post(EVENTS, json={**_event_body(venue), "venueId": str(uuid.uuid4())}, token=organizer.token)

    assert response.status == 422
    assert _field_names(response) == ["venueId"]
    assert db.value("SELECT count(*) FROM events") == 0


def test_a_venue_without_sections_cannot_host_an_event(api: Any, admin: Any, organizer: Any, db: Any) -> None:
    empty = Venue(api, admin)

    response = _create(api, organizer, empty)

    assert response.status == 422
    assert _field_names(response) == ["venueId"]
    assert db.value("SELECT count(*) FROM events") == 0


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"endsAt": _in_days(29)}, "endsAt"),
        ({"salesStartAt": _in_days(5), "salesEndAt": _in_days(4)}, "salesEndAt"),
        ({"maxTicketsPerUser": 0}, "maxTicketsPerUser"),
        ({"maxTicketsPerUser": 101}, "maxTicketsPerUser"),
        ({"currency": "eur"}, "currency"),
        ({"currency": "EURO"}, "currency"),
        ({"startsAt": "2030-01-01T19:00:00"}, "startsAt"),
        ({"title": ""}, "title"),
        ({"venueId": "nope"}, "venueId"),
        ({"organizerId": str(uuid.uuid4())}, "organizerId"),
    ],
)
def test_event_input_is_validated(
    api: Any, organizer: Any, venue: Venue, db: Any, overrides: dict[str, Any], field: str
) -> None:
    response = _create(api, organizer, venue, **overrides)

    assert response.status == 422
    assert field in _field_names(response)
    assert db.value("SELECT count(*) FROM events") == 0


def test_two_prices_for_one_section_are_a_422(api: Any, organizer: Any, venue: Venue) -> None:
    floor = venue.section_ids["Floor"]

    response = _create(
        api, organizer, venue, prices=[{"sectionId": floor, "price": 1}, {"sectionId": floor, "price": 2}]
    )

    assert response.status == 422
    assert _field_names(response) == ["prices"]


# --- update ---------------------------------------------------------------------------------------------------


def test_the_organizer_updates_some_fields_and_the_version_moves(
    api: Any, organizer: Any, venue: Venue, db: Any
) -> None:
    event = _created(api, organizer, venue)

    response = api.put(
        f"{EVENTS}/{event['id']}", json={"title": "Ode to Joy", "description": None}, token=organizer.token
    )

    assert response.status == 200
    body = response.json()
    assert body["title"] == "Ode to Joy"
    assert body["description"] is None
    assert body["category"] == "CLASSICAL"
    assert body["version"] == 2
    assert db.rows("SELECT title, description, version FROM events") == [
        {"title": "Ode to Joy", "description": None, "version": 2}
    ]


def test_an_empty_update_changes_nothing(api: Any, organizer: Any, venue: Venue, db: Any) -> None:
    event = _created(api, organizer, venue)

    response = api.put(f"{EVENTS}/{event['id']}", json={}, token=organizer.token)

    assert response.status == 200
    assert response.json()["version"] == 1
    assert db.value("SELECT version FROM events") == 1


def test_prices_change_while_draft(api: Any, organizer: Any, venue: Venue, db: Any) -> None:
    event = _created(api, organizer, venue)

    response = api.put(
        f"{EVENTS}/{event['id']}",
        json={"prices": [{"sectionId": venue.section_ids["Floor"], "price": 9900}]},
        token=organizer.token,
    )

    assert response.status == 200
    assert [(s["name"], s["price"]) for s in response.json()["sections"]] == [("Floor", 9900), ("Tier", 2500)]
    assert response.json()["version"] == 2
    assert db.value("SELECT price FROM event_sections WHERE section_id = :id", id=venue.section_ids["Floor"]) == 9900
    assert db.value("SELECT count(*) FROM event_seats") == 14


def test_changing_the_venue_of_a_draft_rebuilds_its_seats(
    api: Any, admin: Any, organizer: Any, venue: Venue, db: Any
) -> None:
    event = _created(api, organizer, venue)
    club = Venue(api, admin, ("Standing", 1, 3, None))

    response = api.put(
        f"{EVENTS}/{event['id']}",
        json={"venueId": club.id, "prices": [{"sectionId": club.section_ids["Standing"], "price": 1500}]},
        token=organizer.token,
    )

    assert response.status == 200
    body = response.json()
    assert body["venue"]["id"] == club.id
    assert [(s["name"], s["price"], s["available"]) for s in body["sections"]] == [("Standing", 1500, 3)]
    sections = {row["section_id"] for row in db.rows("SELECT DISTINCT section_id FROM event_seats")}
    assert sections == {uuid.UUID(club.section_ids["Standing"])}
    assert db.value("SELECT count(*) FROM event_sections") == 1


def test_a_draft_picks_up_a_section_added_to_its_venue_when_prices_are_updated(
    api: Any, admin: Any, organizer: Any, venue: Venue, db: Any
) -> None:
    event = _created(api, organizer, venue)
    added = api.post(
        f"/api/venues/{venue.id}/sections", json={"name": "Gallery", "rows": 1, "seatsPerRow": 2}, token=admin.token
    ).json()

    unchanged = api.get(f"{EVENTS}/{event['id']}", token=organizer.token).json()
    response = api.put(
        f"{EVENTS}/{event['id']}", json={"prices": [{"sectionId": added["id"], "price": 700}]}, token=organizer.token
    )

    assert [s["name"] for s in unchanged["sections"]] == ["Floor", "Tier"]
    assert response.status == 200
    assert [(s["name"], s["price"], s["available"]) for s in response.json()["sections"]][-1] == ("Gallery", 700, 2)
    assert db.value("SELECT count(*) FROM event_seats") == 16


@pytest.mark.parametrize(
    "change",
    [
        {"prices": [{"sectionId": "FLOOR", "price": 1}]},
        {"venueId": "VENUE"},
        {"currency": "USD"},
    ],
)
def test_prices_venue_and_currency_are_fixed_once_published(
    api: Any, organizer: Any, venue: Venue, db: Any, change: dict[str, Any]
) -> None:
    event = _created(api, organizer, venue)
    assert api.post(f"{EVENTS}/{event['id']}/publish", token=organizer.token).status == 200
    body = {
        key: (
            [{"sectionId": venue.section_ids["Floor"], "price": 1}]
            if key == "prices"
            else venue.id
            if key == "venueId"
            else value
        )
        for key, value in change.items()
    }

    response = api.put(f"{EVENTS}/{event['id']}", json=body, token=organizer.token)

    assert response.status == 409
    assert response.error_code == "EVENT_NOT_EDITABLE"
    assert db.value("SELECT version FROM events") == 2
    assert db.value("SELECT price FROM event_sections WHERE section_id = :id", id=venue.section_ids["Floor"]) == 4000
    assert db.value("SELECT currency FROM events") == "EUR"


def test_a_published_event_can_still_be_renamed(api: Any, organizer: Any, venue: Venue) -> None:
    event = _created(api, organizer, venue)
    assert api.post(f"{EVENTS}/{event['id']}/publish", token=organizer.token).status == 200

    response = api.put(f"{EVENTS}/{event['id']}", json={"title": "Moved to the big hall"}, token=organizer.token)

    assert response.status == 200
    assert response.json()["status"] == "PUBLISHED"
    assert response.json()["version"] == 3


def test_a_cancelled_event_cannot_be_edited(api: Any, organizer: Any, venue: Venue, db: Any) -> None:
    event = _created(api, organizer, venue)
    assert api.post(f"{EVENTS}/{event['id']}/cancel", token=organizer.token).status == 200

    response = api.put(f"{EVENTS}/{event['id']}", json={"title": "Back on"}, token=organizer.token)

    assert response.status == 409
    assert response.error_code == "EVENT_NOT_EDITABLE"
    assert db.value("SELECT title FROM events") == "Symphony No. 9"


def test_an_end_before_the_stored_start_is_a_422(api: Any, organizer: Any, venue: Venue, db: Any) -> None:
    event = _created(api, organizer, venue)

    response = api.put(f"{EVENTS}/{event['id']}", json={"endsAt": _in_days(1)}, token=organizer.token)

    assert response.status == 422
    assert _field_names(response) == ["endsAt"]
    assert db.value("SELECT version FROM events") == 1


def test_another_organizer_cannot_update_an_event(
    api: Any, accounts: Any, organizer: Any, venue: Venue, db: Any
) -> None:
    event = _created(api, organizer, venue)
    rival = accounts.create("ORGANIZER")

    response = api.put(f"{EVENTS}/{event['id']}", json={"title": "Mine"}, token=rival.token)

    assert response.status == 403
    assert db.value("SELECT title FROM events") == "Symphony No. 9"


def test_users_cannot_update_events(api: Any, accounts: Any, organizer: Any, venue: Venue, db: Any) -> None:
    event = _created(api, organizer, venue)

    response = api.put(f"{EVENTS}/{event['id']}", json={"title": "Mine"}, token=accounts.create("USER").token)

    assert response.status == 403
    assert response.error_code == "FORBIDDEN"
    assert db.rows("SELECT title, version FROM events") == [{"title": event["title"], "version": event["version"]}]


def test_an_admin_updates_any_event(api: Any, admin: Any, organizer: Any, venue: Venue) -> None:
    event = _created(api, organizer, venue)

    response = api.put(f"{EVENTS}/{event['id']}", json={"maxTicketsPerUser": 4}, token=admin.token)

    assert response.status == 200
    assert response.json()["maxTicketsPerUser"] == 4


def test_updating_an_unknown_event_is_a_404(api: Any, organizer: Any, db: Any) -> None:
    response = api.put(f"{EVENTS}/{uuid.uuid4()}", json={"title": "Ghost"}, token=organizer.token)

    assert response.status == 404
    assert response.error_code == "NOT_FOUND"
    assert db.value("SELECT count(*) FROM events") == 0


def test_an_event_id_that_is_not_a_uuid_is_a_422(api: Any, organizer: Any) -> None:
    response = api.put(f"{EVENTS}/12345", json={"title": "Ghost"}, token=organizer.token)

    assert response.status == 422
    assert response.error_code == "VALIDATION_ERROR"


# --- publish --------------------------------------------------------------------------------------------------


def test_publishing_a_draft_puts_it_on_sale(api: Any, organizer: Any, venue: Venue, db: Any) -> None:
    event = _created(api, organizer, venue)

    response = api.post(f"{EVENTS}/{event['id']}/publish", token=organizer.token)

    assert response.status == 200
    body = response.json()
    assert body["status"] == "PUBLISHED"
    assert body["version"] == 2
    assert body["salesStartAt"] is not None
    stored = db.rows("SELECT status, published_at FROM events")[0]
    assert stored["status"] == "PUBLISHED"
    assert stored["published_at"] is not None


def test_publishing_twice_is_harmless(api: Any, organizer: Any, venue: Venue, db: Any) -> None:
    event = _created(api, organizer, venue)
    first = api.post(f"{EVENTS}/{event['id']}/publish", token=organizer.token)

    second = api.post(f"{EVENTS}/{event['id']}/publish", token=organizer.token)

    assert second.status == 200
    assert second.json() == first.json()
    assert db.value("SELECT version FROM events") == 2


def test_an_event_that_has_started_cannot_be_published(api: Any, organizer: Any, venue: Venue, db: Any) -> None:
    event = _created(api, organizer, venue)
    db.execute(
        "UPDATE events SET starts_at = now() - interval '1 hour', ends_at = now() + interval '1 hour' WHERE id = :id",
        id=event["id"],
    )

    response = api.post(f"{EVENTS}/{event['id']}/publish", token=organizer.token)

    assert response.status == 409
    assert response.error_code == "EVENT_STARTED"
    assert db.value("SELECT status FROM events") == "DRAFT"


def test_a_cancelled_event_cannot_be_published(api: Any, organizer: Any, venue: Venue, db: Any) -> None:
    event = _created(api, organizer, venue)
    assert api.post(f"{EVENTS}/{event['id']}/cancel", token=organizer.token).status == 200

    response = api.post(f"{EVENTS}/{event['id']}/publish", token=organizer.token)

    assert response.status == 409
    assert response.error_code == "EVENT_NOT_PUBLISHABLE"
    assert db.value("SELECT status FROM events") == "CANCELLED"


def test_another_organizer_cannot_publish(api: Any, accounts: Any, organizer: Any, venue: Venue, db: Any) -> None:
    event = _created(api, organizer, venue)

    response = api.post(f"{EVENTS}/{event['id']}/publish", token=accounts.create("ORGANIZER").token)

    assert response.status == 403
    assert db.value("SELECT status FROM events") == "DRAFT"


def test_publishing_anonymously_is_a_401(api: Any, organizer: Any, venue: Venue, db: Any) -> None:
    event = _created(api, organizer, venue)

    response = api.post(f"{EVENTS}/{event['id']}/publish")

    assert response.status == 401
    assert db.value("SELECT status FROM events") == "DRAFT"


def test_publishing_an_unknown_event_is_a_404(api: Any, admin: Any, db: Any) -> None:
    response = api.post(f"{EVENTS}/{uuid.uuid4()}/publish", token=admin.token)

    assert response.status == 404
    assert response.error_code == "NOT_FOUND"
    assert db.value("SELECT count(*) FROM outbox_events") == 0


# --- cancel ---------------------------------------------------------------------------------------------------


def _hold(db: Any, seat_id: str, user_id: str, *, minutes: int) -> None:
    db.execute(
        "UPDATE event_seats SET status = 'HELD', held_by = :user, held_until = now() + make_interval(mins => :minutes),"
        " hold_extensions = 1 WHERE id = :seat",
        user=user_id,
        minutes=minutes,
        seat=seat_id,
    )


def _pending_booking(db: Any, event: Any, seat_id: str, user_id: str) -> None:
    booking_id = str(
        db.value(
            "WITH booking AS ("
            " INSERT INTO bookings (user_id, event_id, subtotal, total, currency, expires_at)"
            " VALUES (:user, :event, 2500, 2500, 'EUR', now() + interval '15 minutes') RETURNING id)"
            " INSERT INTO booking_items (booking_id, booking_status, event_seat_id, price)"
            " SELECT id, 'PENDING', :seat, 2500 FROM booking RETURNING booking_id",
            user=user_id,
            event=event.id,
            seat=seat_id,
        )
    )
    db.execute(
        "UPDATE event_seats SET status = 'HELD', held_by = :user, held_until = now() + interval '15 minutes',"
        " booking_id = :booking, booking_status = 'PENDING' WHERE id = :seat",
        user=user_id,
        booking=booking_id,
        seat=seat_id,
    )


def test_cancelling_releases_holds_that_no_booking_protects(api: Any, accounts: Any, catalog: Any, db: Any) -> None:
    event = catalog.event()
    buyer = accounts.create("USER")
    _hold(db, event.seat_ids[0], buyer.id, minutes=5)
    _hold(db, event.seat_ids[1], buyer.id, minutes=-5)
    admin = accounts.create("ADMIN")

    response = api.post(f"{EVENTS}/{event.id}/cancel", token=admin.token)

    assert response.status == 200
    assert response.json()["status"] == "CANCELLED"
    assert response.json()["sections"][0]["available"] == len(event.seat_ids)
    seats = db.rows(
        "SELECT status, held_by, held_until, hold_extensions FROM event_seats WHERE id = ANY(CAST(:ids AS uuid[]))",
        ids=event.seat_ids[:2],
    )
    assert seats == [{"status": "AVAILABLE", "held_by": None, "held_until": None, "hold_extensions": 0}] * 2
    stored = db.rows("SELECT status, cancelled_at, version FROM events")[0]
    assert stored["status"] == "CANCELLED"
    assert stored["cancelled_at"] is not None
    assert stored["version"] == 2


def test_cancelling_records_one_event_cancelled_domain_event(api: Any, organizer: Any, catalog: Any, db: Any) -> None:
    event = catalog.event(organizer_id=organizer.id)

    first = api.post(f"{EVENTS}/{event.id}/cancel", token=organizer.token)
    again = api.post(f"{EVENTS}/{event.id}/cancel", token=organizer.token)

    assert (first.status, again.status) == (200, 200)

    outbox = db.rows("SELECT event_type, payload FROM outbox_events")
    assert [(row["event_type"], row["payload"]["eventId"]) for row in outbox] == [("EventCancelled", event.id)]


def test_cancelling_twice_answers_the_same_event(api: Any, organizer: Any, catalog: Any, db: Any) -> None:
    event = catalog.event(organizer_id=organizer.id)
    first = api.post(f"{EVENTS}/{event.id}/cancel", token=organizer.token)

    second = api.post(f"{EVENTS}/{event.id}/cancel", token=organizer.token)

    assert second.status == 200
    assert second.json() == first.json()
    assert db.value("SELECT version FROM events") == 2


def test_a_completed_event_cannot_be_cancelled(api: Any, organizer: Any, catalog: Any, db: Any) -> None:
    event = catalog.event(organizer_id=organizer.id, status="COMPLETED")

    response = api.post(f"{EVENTS}/{event.id}/cancel", token=organizer.token)

    assert response.status == 409
    assert response.error_code == "EVENT_NOT_CANCELLABLE"
    assert db.value("SELECT status FROM events") == "COMPLETED"


def test_another_organizer_cannot_cancel(api: Any, accounts: Any, catalog: Any, db: Any) -> None:
    event = catalog.event()

    response = api.post(f"{EVENTS}/{event.id}/cancel", token=accounts.create("ORGANIZER").token)

    assert response.status == 403
    assert db.value("SELECT status FROM events") == "PUBLISHED"


def test_users_cannot_cancel_events(api: Any, accounts: Any, catalog: Any, db: Any) -> None:
    event = catalog.event()

    response = api.post(f"{EVENTS}/{event.id}/cancel", token=accounts.create("USER").token)

    assert response.status == 403
    assert db.value("SELECT status FROM events") == "PUBLISHED"


# --- read -----------------------------------------------------------------------------------------------------


def test_counts_show_the_buyers_view_of_holds(api: Any, accounts: Any, catalog: Any, db: Any) -> None:
    event = catalog.event(rows=1, seats_per_row=5)
    buyer = accounts.create("USER")
    _hold(db, event.seat_ids[0], buyer.id, minutes=5)
    _hold(db, event.seat_ids[1], buyer.id, minutes=-1)
    _pending_booking(db, event, event.seat_ids[2], buyer.id)

    response = api.get(f"{EVENTS}/{event.id}")

    assert response.status == 200
    # Seat 0 is held live; seat 1's hold expired (available); seat 2 belongs to a live PENDING booking (held).
    assert [(s["available"], s["held"], s["booked"]) for s in response.json()["sections"]] == [(3, 2, 0)]


def test_seats_of_a_pending_booking_past_its_payment_window_count_as_available(
    api: Any, accounts: Any, catalog: Any, db: Any
) -> None:
    event = catalog.event(rows=1, seats_per_row=2)
    _pending_booking(db, event, event.seat_ids[0], accounts.create("USER").id)
    db.execute("UPDATE bookings SET expires_at = now() - interval '1 second'")
    db.execute("UPDATE event_seats SET held_until = now() - interval '1 second' WHERE id = :id", id=event.seat_ids[0])

    response = api.get(f"{EVENTS}/{event.id}")

    assert [(s["available"], s["held"], s["booked"]) for s in response.json()["sections"]] == [(2, 0, 0)]


def test_an_event_reads_with_the_spec_fields(api: Any, catalog: Any) -> None:
    from ticketing.capacity import admit_per_minute

    event = catalog.event()

    body = api.get(f"{EVENTS}/{event.id}").json()

    assert set(body) == {
        "id",
        "title",
        "description",
        "category",
        "status",
        "startsAt",
        "endsAt",
        "salesStartAt",
        "salesEndAt",
        "currency",
        "maxTicketsPerUser",
        "venue",
        "sections",
        "version",
        "cancellation",
        "waitingRoom",
    }
    assert body["cancellation"] is None
    assert body["waitingRoom"] == {
        "enabled": False,
        "opensAt": body["waitingRoom"]["opensAt"],
        "admitPerMinute": admit_per_minute("db.serverless", 16),
        "sessionMinutes": 10,
    }
    assert body["startsAt"].endswith("Z")
    assert body["salesEndAt"] == body["startsAt"]
    assert body["sections"][0]["available"] == 10


@pytest.mark.parametrize(
    ("viewer", "status"),
    [("anonymous", 404), ("USER", 404), ("other ORGANIZER", 404), ("owner", 200), ("ADMIN", 200)],
)
def test_a_draft_is_seen_only_by_its_organizer_and_admins(
    api: Any, accounts: Any, organizer: Any, catalog: Any, viewer: str, status: int
) -> None:
    event = catalog.event(status="DRAFT", organizer_id=organizer.id)
    tokens = {
        "anonymous": None,
        "USER": accounts.create("USER").token,
        "other ORGANIZER": accounts.create("ORGANIZER").token,
        "owner": organizer.token,
        "ADMIN": accounts.create("ADMIN").token,
    }

    response = api.get(f"{EVENTS}/{event.id}", token=tokens[viewer])

    assert response.status == status
    if status == 404:
        assert response.error_code == "NOT_FOUND"
    else:
        assert response.json()["status"] == "DRAFT"


def test_a_cancelled_event_stays_readable_by_its_id(api: Any, catalog: Any) -> None:
    event = catalog.event(status="CANCELLED")

    response = api.get(f"{EVENTS}/{event.id}")

    assert response.status == 200
    assert response.json()["status"] == "CANCELLED"


def test_reading_an_unknown_event_is_a_404(api: Any) -> None:
    response = api.get(f"{EVENTS}/{uuid.uuid4()}")

    assert (response.status, response.error_code) == (404, "NOT_FOUND")


def test_an_expired_token_is_a_401_even_on_public_reads(api: Any, accounts: Any, catalog: Any) -> None:
    import time

    from tests.access_tokens import access_claims, signed

    event = catalog.event()
    now = int(time.time())
    expired = signed(access_claims(accounts.create().id, iat=now - 3600, exp=now - 60))
    assert api.get(f"{EVENTS}/{event.id}").status == 200  # anonymous, the same read is public

    response = api.get(f"{EVENTS}/{event.id}", token=expired)

    assert (response.status, response.error_code) == (401, "TOKEN_EXPIRED")


# --- list -----------------------------------------------------------------------------------------------------


def _titled(catalog: Any, db: Any, title: str, **kwargs: Any) -> Any:
    event = catalog.event(**kwargs)
    db.execute("UPDATE events SET title = :title WHERE id = :id", title=title, id=event.id)
    return event


def _titles(response: Any) -> list[str]:
    assert response.status == 200, response.body
    return [item["title"] for item in response.json()["items"]]


@pytest.fixture
def mixed_events(catalog: Any, db: Any, organizer: Any) -> dict[str, Any]:
    return {
        "published": _titled(catalog, db, "Published", starts_in_hours=48),
        "own draft": _titled(catalog, db, "Own draft", status="DRAFT", organizer_id=organizer.id, starts_in_hours=72),
        "foreign draft": _titled(catalog, db, "Foreign draft", status="DRAFT", starts_in_hours=96),
        "cancelled": _titled(catalog, db, "Cancelled", status="CANCELLED", starts_in_hours=120),
    }


def test_the_public_lists_published_events_only(api: Any, accounts: Any, mixed_events: dict[str, Any]) -> None:
    anonymous = api.get(EVENTS)
    user = api.get(EVENTS, token=accounts.create("USER").token)

    assert _titles(anonymous) == ["Published"]
    assert anonymous.json()["total"] == 1
    assert _titles(user) == ["Published"]


def test_an_organizer_also_lists_their_own_events(api: Any, organizer: Any, mixed_events: dict[str, Any]) -> None:
    assert _titles(api.get(EVENTS, token=organizer.token)) == ["Published", "Own draft"]


def test_an_admin_lists_every_event(api: Any, accounts: Any, mixed_events: dict[str, Any]) -> None:
    response = api.get(EVENTS, token=accounts.create("ADMIN").token)

    assert _titles(response) == ["Published", "Own draft", "Foreign draft", "Cancelled"]


def test_a_status_filter_never_widens_what_the_public_sees(api: Any, mixed_events: dict[str, Any]) -> None:
    response = api.get(EVENTS, query={"status": "DRAFT"})

    assert _titles(response) == []
    assert response.json()["total"] == 0


def test_events_sort_by_start_descending_on_request(api: Any, accounts: Any, mixed_events: dict[str, Any]) -> None:
    response = api.get(EVENTS, query={"sort": "-startsAt"}, token=accounts.create("ADMIN").token)

    assert _titles(response) == ["Cancelled", "Foreign draft", "Own draft", "Published"]


def test_events_are_filtered(api: Any, catalog: Any, db: Any) -> None:
    rock = _titled(catalog, db, "Rock Night", starts_in_hours=24)
    jazz = _titled(catalog, db, "Late Jazz", starts_in_hours=24 * 10)
    _titled(catalog, db, "Opera Gala", starts_in_hours=24 * 20)
    db.execute("UPDATE events SET category = 'JAZZ', description = 'smooth saxophone' WHERE id = :id", id=jazz.id)
    db.execute("UPDATE venues SET city = 'Hamburg' WHERE id = :id", id=rock.venue_id)
    ten_days = datetime.now(UTC) + timedelta(days=10)

    assert _titles(api.get(EVENTS, query={"q": "ROCK"})) == ["Rock Night"]
    assert _titles(api.get(EVENTS, query={"q": "saxophone"})) == ["Late Jazz"]
    assert _titles(api.get(EVENTS, query={"category": "jazz"})) == ["Late Jazz"]
    assert _titles(api.get(EVENTS, query={"city": "hamburg"})) == ["Rock Night"]
    assert _titles(api.get(EVENTS, query={"venueId": jazz.venue_id})) == ["Late Jazz"]
    window = {"from": _iso(ten_days - timedelta(hours=1)), "to": _iso(ten_days + timedelta(hours=1))}
    assert _titles(api.get(EVENTS, query=window)) == ["Late Jazz"]
    assert _titles(api.get(EVENTS, query={"from": _iso(ten_days + timedelta(hours=1))})) == ["Opera Gala"]


def test_events_are_paged(api: Any, catalog: Any, db: Any) -> None:
    for hours in (30, 10, 20):
        _titled(catalog, db, f"In {hours}h", starts_in_hours=hours)

    response = api.get(EVENTS, query={"page": 2, "pageSize": 2})

    assert _titles(response) == ["In 30h"]
    assert {key: response.json()[key] for key in ("page", "pageSize", "total")} == {
        "page": 2,
        "pageSize": 2,
        "total": 3,
    }


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"sort": "title"}, "sort"),
        ({"pageSize": 0}, "pageSize"),
        ({"pageSize": 101}, "pageSize"),
        ({"status": "SOLD_OUT"}, "status"),
        ({"from": "yesterday"}, "from"),
        ({"venueId": "abc"}, "venueId"),
        ({"from": "2030-02-01T00:00:00Z", "to": "2030-01-01T00:00:00Z"}, "to"),
    ],
)
def test_bad_list_parameters_are_a_422(api: Any, query: dict[str, Any], field: str) -> None:
    response = api.get(EVENTS, query=query)

    assert response.status == 422
    assert _field_names(response) == [field]
