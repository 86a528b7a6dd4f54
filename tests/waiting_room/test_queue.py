"""Joining and polling the waiting room through the API (docs/waiting-room.md)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest


def test_joining_twice_from_two_tabs_gives_the_same_place(rooms: Any, accounts: Any) -> None:
    # Given an event whose sale started, with a room
    event = rooms.event()
    buyer = accounts.create()

    # When the buyer joins, and joins again
    first = rooms.join(buyer, event.id, expected=201)
    again = rooms.join(buyer, event.id, expected=200)

    # Then both answers name the same place, waiting
    assert first["state"] == "WAITING"
    assert again == first


def test_a_place_is_given_in_the_order_people_joined(rooms: Any, accounts: Any) -> None:
    # Given three buyers who joined after the sale's start, one after the other
    event = rooms.event(admit_per_minute=1)
    buyers = [accounts.create() for _ in range(3)]
    for buyer in buyers:
        rooms.join(buyer, event.id)

    # When the controller ticks (a ceiling of 1 a minute admits nobody in one 10 s tick)
    decisions = rooms.tick()

    # Then their positions (estimated from the arrivals counted per second: joins in the same second may share
    # one) follow the join order, and each sees who is ahead
    assert [decision.admitted for decision in decisions] == [0]
    places = [rooms.poll(buyer, event.id) for buyer in buyers]
    positions = [place["position"] for place in places]
    assert positions == sorted(positions)
    assert all(1 <= position <= 3 for position in positions)
    assert [place["aheadOfYou"] for place in places] == [position - 1 for position in positions]
    assert all(place["state"] == "WAITING" and place["admission"] is None for place in places)
    assert places[2]["pollAfterSeconds"] >= places[0]["pollAfterSeconds"]


def test_before_the_sale_starts_joiners_wait_in_the_pre_queue_without_a_position(rooms: Any, accounts: Any) -> None:
    event = rooms.event(sale_starts_in=timedelta(minutes=20), opened_ago=timedelta(minutes=5))

    place = rooms.join(accounts.create(), event.id)

    assert place["state"] == "PRE_QUEUE"
    assert place["position"] is None
    assert place["admission"] is None


def test_joining_before_the_room_opens_is_409_queue_not_open(rooms: Any, accounts: Any, api: Any) -> None:
    event = rooms.event(sale_starts_in=timedelta(hours=2), opened_ago=timedelta(minutes=-30))
    buyer = accounts.create()

    joined = api.post(f"/api/events/{event.id}/queue", token=buyer.token)

    assert joined.status == 409
    assert joined.error_code == "QUEUE_NOT_OPEN"
    assert api.get(f"/api/events/{event.id}/queue/me", token=buyer.token).status == 404


def test_an_event_without_a_room_answers_409_no_waiting_room(
    catalog: Any, accounts: Any, api: Any, dynamodb: str
) -> None:
    event = catalog.event()

    joined = api.post(f"/api/events/{event.id}/queue", token=accounts.create().token)

    assert joined.status == 409
    assert joined.error_code == "NO_WAITING_ROOM"


def test_the_public_state_is_one_cacheable_answer_for_everyone(rooms: Any, accounts: Any, api: Any) -> None:
    event = rooms.event()
    rooms.join(accounts.create(), event.id)
    rooms.join(accounts.create(), event.id)
    rooms.tick()

    public = api.get(f"/api/events/{event.id}/queue")

    assert public.status == 200, public.body
    assert public.header("Cache-Control") == "public, max-age=5, stale-while-revalidate=5"
    body = public.json()
    assert body["state"] == "OPEN"
    assert body["eventId"] == event.id
    assert body["waiting"] == 0  # both admitted by the first tick at 600 a minute
    assert body["admittedPerMinute"] == 150  # the controller starts at a quarter of the ceiling


def test_an_admitted_buyer_gets_a_token_that_stays_the_same_across_polls(rooms: Any, accounts: Any) -> None:
    event = rooms.event(session_minutes=5)
    buyer = accounts.create()
    token = rooms.admitted_token(buyer, event.id)

    again = rooms.poll(buyer, event.id)

    assert again["admission"]["token"] == token
    assert again["state"] == "ADMITTED"
    assert again["aheadOfYou"] == 0


def test_an_organizer_pauses_the_room_and_nobody_is_admitted_until_resumed(rooms: Any, accounts: Any, api: Any) -> None:
    organizer = accounts.create("ORGANIZER")
    event = rooms.event(organizer_id=organizer.id)
    buyer = accounts.create()
    rooms.join(buyer, event.id)

    paused = api.post(f"/api/events/{event.id}/queue/pause", token=organizer.token)
    rooms.tick()

    assert paused.status == 200, paused.body
    assert paused.json()["state"] == "PAUSED"
    assert rooms.poll(buyer, event.id)["state"] == "WAITING"
    resumed = api.post(f"/api/events/{event.id}/queue/resume", token=organizer.token)
    assert resumed.json()["state"] == "OPEN"
    rooms.tick(at=datetime.now(UTC) + timedelta(seconds=20))  # the next tick: a tick after the paused one
    assert rooms.poll(buyer, event.id)["state"] == "ADMITTED"
    stats = api.get(f"/api/events/{event.id}/queue/stats", token=organizer.token).json()
    assert stats["admitted"] == 1
    assert stats["waiting"] == 0
    assert stats["paused"] is False


def test_another_organizer_may_not_pause_the_room(rooms: Any, accounts: Any, api: Any) -> None:
    event = rooms.event()

    answer = api.post(f"/api/events/{event.id}/queue/pause", token=accounts.create("ORGANIZER").token)

    assert answer.status == 403
    assert api.get(f"/api/events/{event.id}/queue").json()["state"] == "OPEN"


def test_the_organizer_sets_the_room_on_the_event_and_sees_it(accounts: Any, api: Any, catalog: Any, db: Any) -> None:
    organizer = accounts.create("ORGANIZER")
    event = catalog.event(organizer_id=organizer.id, status="DRAFT")
    room = {"enabled": True, "opensAt": "2027-05-01T09:30:00Z", "admitPerMinute": 1200, "sessionMinutes": 15}

    updated = api.put(f"/api/events/{event.id}", json={"waitingRoom": room}, token=organizer.token)

    assert updated.status == 200, updated.body
    assert updated.json()["waitingRoom"] == room
    assert db.value("SELECT waiting_room_admit_per_minute FROM events WHERE id = :id", id=event.id) == 1200
    shown = api.get(f"/api/events/{event.id}", token=organizer.token).json()["waitingRoom"]
    assert shown == room


def test_a_room_without_a_ceiling_follows_the_capacity_models_rate_for_the_database(
    accounts: Any, api: Any, catalog: Any
) -> None:
    from ticketing.capacity import admit_per_minute

    organizer = accounts.create("ORGANIZER")
    event = catalog.event(organizer_id=organizer.id, status="DRAFT")

    updated = api.put(f"/api/events/{event.id}", json={"waitingRoom": {"enabled": True}}, token=organizer.token)

    assert updated.status == 200, updated.body
    # No override set: the model's safe rate for the default writer (Aurora Serverless v2 at 16 ACUs).
    assert updated.json()["waitingRoom"]["admitPerMinute"] == admit_per_minute("db.serverless", 16) > 0
    assert updated.json()["waitingRoom"]["sessionMinutes"] == 10


def test_the_deployments_override_replaces_the_models_ceiling(
    accounts: Any, api: Any, catalog: Any, fresh_settings: pytest.MonkeyPatch
) -> None:
    fresh_settings.setenv("WAITING_ROOM_DEFAULT_ADMIT_PER_MINUTE", "777")
    organizer = accounts.create("ORGANIZER")
    event = catalog.event(organizer_id=organizer.id, status="DRAFT")

    updated = api.put(f"/api/events/{event.id}", json={"waitingRoom": {"enabled": True}}, token=organizer.token)

    assert updated.status == 200, updated.body
    assert updated.json()["waitingRoom"]["admitPerMinute"] == 777


def test_a_session_longer_than_30_minutes_is_422(accounts: Any, api: Any, catalog: Any, db: Any) -> None:
    organizer = accounts.create("ORGANIZER")
    event = catalog.event(organizer_id=organizer.id, status="DRAFT")

    answer = api.put(
        f"/api/events/{event.id}", json={"waitingRoom": {"enabled": True, "sessionMinutes": 31}}, token=organizer.token
    )

    assert answer.status == 422
    assert db.value("SELECT waiting_room_enabled FROM events WHERE id = :id", id=event.id) is False
