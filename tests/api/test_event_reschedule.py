"""A published event's dates: the start only moves to the future, the end stays after it, holders hear of it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.bookings.conftest import Shop


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _event_dates(db: Any, event_id: str) -> tuple[datetime, datetime]:
    row = db.rows("SELECT starts_at, ends_at FROM events WHERE id = :id", id=event_id)[0]
    return row["starts_at"], row["ends_at"]


def test_a_published_start_cannot_move_into_the_past(api: Any, catalog: Any, accounts: Any, db: Any) -> None:
    event = catalog.event()
    organizer_token = _organizer_token(api, db, event)
    before = _event_dates(db, event.id)
    past = datetime.now(UTC) - timedelta(hours=1)

    response = api.put(
        f"/api/events/{event.id}",
        json={"startsAt": _iso(past), "endsAt": _iso(past + timedelta(hours=2))},
        token=organizer_token,
    )

    assert response.status == 422
    assert response.json()["error"]["details"]["fields"][0]["field"] == "startsAt"
    assert _event_dates(db, event.id) == before


def test_a_published_end_must_stay_after_the_start(api: Any, catalog: Any, db: Any) -> None:
    event = catalog.event()
    token = _organizer_token(api, db, event)
    starts_at, _ = _event_dates(db, event.id)

    response = api.put(f"/api/events/{event.id}", json={"endsAt": _iso(starts_at - timedelta(minutes=1))}, token=token)

    assert response.status == 422
    assert response.json()["error"]["details"]["fields"][0]["field"] == "endsAt"


def test_moving_a_published_event_notifies_each_ticket_holder_once(
    api: Any, catalog: Any, accounts: Any, db: Any
) -> None:
    shop = Shop(api)
    event = catalog.event()
    holder, other_holder, pending_buyer = accounts.create(), accounts.create(), accounts.create()
    shop.confirmed_booking(holder, event, event.seat_ids[:1])
    shop.confirmed_booking(holder, event, event.seat_ids[1:2])
    shop.confirmed_booking(other_holder, event, event.seat_ids[2:3])
    shop.pending_booking(pending_buyer, event, event.seat_ids[3:4])
    token = _organizer_token(api, db, event)
    new_start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=60)

    response = api.put(
        f"/api/events/{event.id}",
        json={"startsAt": _iso(new_start), "endsAt": _iso(new_start + timedelta(hours=3))},
        token=token,
    )

    assert response.status == 200, response.body
    assert response.json()["startsAt"] == _iso(new_start)
    notified = db.rows("SELECT user_id, data FROM notifications WHERE type = 'EVENT_RESCHEDULED' ORDER BY user_id")
    assert sorted(str(row["user_id"]) for row in notified) == sorted([holder.id, other_holder.id])
    assert all(row["data"]["eventId"] == event.id for row in notified)
    assert all(row["data"]["startsAt"] == _iso(new_start) for row in notified)


def test_a_change_that_keeps_the_dates_notifies_nobody(api: Any, catalog: Any, accounts: Any, db: Any) -> None:
    shop = Shop(api)
    event = catalog.event()
    shop.confirmed_booking(accounts.create(), event, event.seat_ids[:1])
    token = _organizer_token(api, db, event)

    response = api.put(f"/api/events/{event.id}", json={"title": "Renamed"}, token=token)

    assert response.status == 200
    assert db.value("SELECT count(*) FROM notifications WHERE type = 'EVENT_RESCHEDULED'") == 0


def _organizer_token(api: Any, db: Any, event: Any) -> str:
    """A session of the event's organizer (Catalog creates organizers with the Accounts' default password)."""
    email = db.value("SELECT email FROM users WHERE id = :id", id=event.organizer_id)
    session = api.post("/api/auth/login", json={"email": email, "password": "correct-horse-9"})
    assert session.status == 200, session.body
    token: str = session.json()["accessToken"]
    return token
