"""Waiting room tests: moto's DynamoDB server (a child process, real boto3 calls), events with a room."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest


class Rooms:
    """Events with a waiting room (Given steps), and the controller's tick at a chosen moment."""

    def __init__(self, db: Any, catalog: Any, api: Any) -> None:
        self._db = db
        self._catalog = catalog
        self._api = api

    def event(
        self,
        *,
        sale_starts_in: timedelta = timedelta(hours=-1),
        opened_ago: timedelta = timedelta(hours=2),
        admit_per_minute: int = 600,
        session_minutes: int = 10,
        **event: Any,
    ) -> Any:
        from ticketing.waiting_room import room_cache

        seeded = self._catalog.event(**event)
        now = datetime.now(UTC)
        updated = self._db.execute(
            "UPDATE events SET waiting_room_enabled = true, waiting_room_opens_at = :opens,"
            " sales_start_at = :start, waiting_room_admit_per_minute = :rate, waiting_room_session_minutes = :minutes"
            " WHERE id = :id",
            id=seeded.id,
            opens=now - opened_ago,
            start=now + sale_starts_in,
            rate=admit_per_minute,
            minutes=session_minutes,
        )
        assert updated == 1
        room_cache.forget()
        return seeded

    def join(self, account: Any, event_id: str, expected: int = 201) -> dict[str, Any]:
        joined = self._api.post(f"/api/events/{event_id}/queue", token=account.token)
        assert joined.status == expected, joined.body
        body: dict[str, Any] = joined.json()
        return body

    def poll(self, account: Any, event_id: str) -> dict[str, Any]:
        polled = self._api.get(f"/api/events/{event_id}/queue/me", token=account.token)
        assert polled.status == 200, polled.body
        body: dict[str, Any] = polled.json()
        return body

    def tick(self, at: datetime | None = None) -> list[Any]:
        from ticketing.waiting_room.controller import run_tick
        from ticketing.waiting_room.service import forget_rooms

        decisions = run_tick(at or datetime.now(UTC) + timedelta(seconds=5))
        forget_rooms()
        return decisions

    def admitted_token(self, account: Any, event_id: str) -> str:
        """Joins, lets the controller admit, and answers the admission token."""
        self.join(account, event_id)
        self.tick()
        place = self.poll(account, event_id)
        assert place["state"] == "ADMITTED", place
        token: str = place["admission"]["token"]
        return token


@pytest.fixture
def rooms(db: Any, catalog: Any, api: Any, dynamodb: str) -> Rooms:
    return Rooms(db, catalog, api)
