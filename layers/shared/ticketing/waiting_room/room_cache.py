"""An event's room settings, per execution environment, read from the catalog at most every CACHE_SECONDS.

The one database read the join, the poll and the admission check may make: a cached answer is used for up to
CACHE_SECONDS, so an organizer's change reaches every environment within that time, and a crowd of buyers
costs the database one primary-key read per event, environment and CACHE_SECONDS.
"""

from __future__ import annotations

import time
from uuid import UUID

from ticketing.catalog.events.room_settings import room_settings_row
from ticketing.db import transaction
from ticketing.waiting_room.models import RoomSettings

CACHE_SECONDS = 5.0

_cache: dict[UUID, tuple[float, RoomSettings | None]] = {}


def room_settings(event_id: UUID) -> RoomSettings | None:
    """The event's room settings (None: no such event), at most CACHE_SECONDS old."""
    now = time.monotonic()
    cached = _cache.get(event_id)
    if cached is not None and now - cached[0] < CACHE_SECONDS:
        return cached[1]
    with transaction() as tx:
        row = room_settings_row(tx, event_id)
    settings = RoomSettings.from_row(row) if row is not None else None
    _cache[event_id] = (now, settings)
    return settings


def forget() -> None:
    """Drops every cached setting (tests that change an event's room between two calls)."""
    _cache.clear()
