"""Joining, polling, the public state, the organizer's stats, pause and resume (docs/waiting-room.md).

None of these writes to the database or reads it beyond the cached room settings (room_cache); the queue is
in DynamoDB (store).
"""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime, timedelta
from uuid import UUID

from ticketing.auth.principal import Principal
from ticketing.config import get_settings
from ticketing.errors import Conflict, Forbidden, NotFound
from ticketing.waiting_room import store, tokens
from ticketing.waiting_room.models import (
    Admission,
    Place,
    PlaceState,
    RoomSettings,
    RoomState,
    RoomStats,
    RoomView,
    WaitSeconds,
)
from ticketing.waiting_room.room_cache import room_settings

MIN_POLL_SECONDS = 2
MAX_POLL_SECONDS = 60
SOLD_OUT_POLL_SECONDS = 30


def _now() -> datetime:
    return datetime.now(UTC)


def _published_room(event_id: UUID) -> RoomSettings:
    settings = room_settings(event_id)
    if settings is None or not settings.published:
        raise NotFound("No such event.")
    if not settings.enabled:
        raise Conflict("This event has no waiting room; buy directly.", code="NO_WAITING_ROOM")
    return settings


def _managed_room(principal: Principal, event_id: UUID) -> RoomSettings:
    settings = room_settings(event_id)
    if settings is None:
        raise NotFound("No such event.")
    if not (principal.is_admin or principal.user_id == settings.organizer_id):
        raise Forbidden("Only the event's organizer or an admin can manage its waiting room.")
    if not settings.enabled:
        raise Conflict("This event has no waiting room.", code="NO_WAITING_ROOM")
    return settings


def poll_after_seconds(wait_seconds: float) -> int:
    """Ask again sooner when near the front, rarely when far: a quarter of the wait, within 2-60 s."""
    return int(min(MAX_POLL_SECONDS, max(MIN_POLL_SECONDS, wait_seconds / 4)))


def _wait_for(ahead: int, room: store.RoomRecord, settings: RoomSettings) -> int:
    rate = max(room.rate, 1.0) if room.rate else max(1.0, settings.admit_per_minute / 4)
    return math.ceil(ahead / rate * 60)


def place_view(settings: RoomSettings, room: store.RoomRecord, place: store.PlaceItem, now: datetime) -> Place:
    """What a buyer sees of their place; the first look at an admitted place starts its session."""

    def answer(
        state: PlaceState, ahead: int | None, wait: int | None, poll: int, admission: Admission | None = None
    ) -> Place:
        return Place(
            event_id=settings.event_id,
            state=state,
            position=place.position,
            ahead_of_you=ahead,
            estimated_wait_seconds=wait,
            poll_after_seconds=poll,
            admission=admission,
        )

    if settings.closed_at(now):
        return answer(PlaceState.CLOSED, None, None, MAX_POLL_SECONDS)
    if place.position is not None and place.position <= room.admitted_through:
        admitted_us = place.admitted_us or store.mark_admitted(place, int(now.timestamp() * 1e6))
        expires_at = datetime.fromtimestamp(admitted_us / 1e6, UTC) + timedelta(minutes=settings.session_minutes)
        if expires_at <= now:
            return answer(PlaceState.CLOSED, 0, None, MAX_POLL_SECONDS)
        token = tokens.sign(place.user_id, settings.event_id, admitted_us, expires_at)
        left = (expires_at - now).total_seconds()
        return answer(
            PlaceState.ADMITTED, 0, 0, poll_after_seconds(left), Admission(token=token, expires_at=expires_at)
        )
    if room.sold_out:
        return answer(PlaceState.SOLD_OUT, None, None, SOLD_OUT_POLL_SECONDS)
    if place.position is None and place.pre_queue and not room.dealt:
        until_start = (settings.sales_start_at - now).total_seconds() if settings.sales_start_at else MAX_POLL_SECONDS
        return answer(PlaceState.PRE_QUEUE, None, None, poll_after_seconds(max(until_start, 0) * 4))
    ahead = room.waiting if place.position is None else max(0, place.position - room.admitted_through - 1)
    wait = _wait_for(ahead, room, settings)
    return answer(PlaceState.WAITING, ahead, wait, poll_after_seconds(wait))


def join(principal: Principal, event_id: UUID) -> tuple[Place, bool]:
    """The caller's place, made on the first call (True) and the same one on every later call (False)."""
    settings = _published_room(event_id)
    now = _now()
    if settings.closed_at(now):
        raise Conflict("The sale of this event has ended.", code="QUEUE_CLOSED")
    if settings.opens_at is None or now < settings.opens_at:
        raise Conflict(
            "The waiting room is not open yet.",
            code="QUEUE_NOT_OPEN",
            details={"opensAt": settings.opens_at.isoformat() if settings.opens_at else None},
        )
    pre_queue = settings.sales_start_at is None or now < settings.sales_start_at
    place = store.new_place(event_id, principal.user_id, int(now.timestamp() * 1e6), pre_queue=pre_queue)
    created = store.put_new_place(place)
    if not created:
        existing = store.get_place(event_id, principal.user_id)
        if existing is None:
            raise store.StoreUnavailable()
        place = existing
    return place_view(settings, store.get_room(event_id), place, now), created


def my_place(principal: Principal, event_id: UUID) -> Place:
    settings = _published_room(event_id)
    place = store.get_place(event_id, principal.user_id)
    if place is None:
        raise NotFound("You have no place in this waiting room; join it first.")
    return place_view(settings, store.get_room(event_id), place, _now())


def room_state(settings: RoomSettings, room: store.RoomRecord, now: datetime) -> RoomState:
    if settings.closed_at(now):
        return RoomState.CLOSED
    if settings.opens_at is None or now < settings.opens_at:
        return RoomState.NOT_OPEN
    if settings.sales_start_at is None or now < settings.sales_start_at:
        return RoomState.PRE_QUEUE
    if room.sold_out:
        return RoomState.SOLD_OUT
    return RoomState.PAUSED if room.paused else RoomState.OPEN


def _view(settings: RoomSettings, room: store.RoomRecord) -> RoomView:
    return RoomView(
        event_id=settings.event_id,
        state=room_state(settings, room, _now()),
        waiting=room.waiting,
        admitted_per_minute=round(room.rate),
        opens_at=settings.opens_at,
        sales_start_at=settings.sales_start_at,
    )


def public_room(event_id: UUID) -> RoomView:
    settings = _published_room(event_id)
    return _view(settings, store.get_room(event_id))


def public_max_age_seconds() -> int:
    """How long a CDN may keep the public state: half a tick, so it is never more than one tick behind."""
    return max(1, int(get_settings().waiting_room_tick_seconds / 2))


def _percentile(values: list[float], share: float) -> int | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, math.ceil(share * len(ordered)) - 1)])


def stats(principal: Principal, event_id: UUID) -> RoomStats:
    settings = _managed_room(principal, event_id)
    room = store.get_room(event_id)
    active = room.active_sessions(settings.session_minutes, time.time())
    return RoomStats(
        waiting=room.waiting,
        admitted=room.admitted_through,
        active=active,
        bought=room.booked,
        abandoned=max(0, room.admitted_through - active - room.booked),
        admitted_per_minute=round(room.rate),
        wait_seconds=WaitSeconds(p50=_percentile(room.waits, 0.5), p95=_percentile(room.waits, 0.95)),
        paused=room.paused,
    )


def set_paused(principal: Principal, event_id: UUID, *, paused: bool) -> RoomView:
    settings = _managed_room(principal, event_id)
    store.set_paused(event_id, paused)
    return _view(settings, store.get_room(event_id))
