"""Joining, polling, the public state, the organizer's stats, pause and resume (docs/waiting-room.md).

None of these writes to the database or reads it beyond the cached room settings (room_cache); the queue is
in DynamoDB (store). A join is two writes (the place, its arrival count) and a poll one read (the place): the
room's public part, the same for everyone, is kept per environment for ROOM_CACHE_SECONDS.
"""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime, timedelta
from uuid import UUID

from ticketing.auth.principal import Principal
from ticketing.config import get_settings
from ticketing.errors import Conflict, Forbidden, NotFound
from ticketing.waiting_room import store, tokens, watermarks
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
# How long one environment keeps the room's public part: far below a tick, so a poll is at most that much
# behind the controller's last decision.
ROOM_CACHE_SECONDS = 0.5

_rooms: dict[UUID, tuple[float, store.RoomPublic, bool]] = {}


def _now() -> datetime:
    return datetime.now(UTC)


def _public(event_id: UUID) -> tuple[store.RoomPublic, bool]:
    """The room's public part and whether it is paused, at most ROOM_CACHE_SECONDS old."""
    now = time.monotonic()
    cached = _rooms.get(event_id)
    if cached is not None and now - cached[0] < ROOM_CACHE_SECONDS:
        return cached[1], cached[2]
    public, paused = store.get_public(event_id)
    _rooms[event_id] = (now, public, paused)
    return public, paused


def forget_rooms() -> None:
    """Drops the cached rooms (tests that tick the controller between two polls)."""
    _rooms.clear()


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


def _wait_for(ahead: int, public: store.RoomPublic, settings: RoomSettings) -> int:
    rate = max(public.rate, 1.0) if public.rate else max(1.0, settings.admit_per_minute / 4)
    return math.ceil(ahead / rate * 60)


def place_view(settings: RoomSettings, public: store.RoomPublic, place: store.PlaceItem, now: datetime) -> Place:
    """What a buyer sees of their place; the first look at an admitted place starts its session."""
    position = watermarks.position_of(public, place)

    def answer(
        state: PlaceState, ahead: int | None, wait: int | None, poll: int, admission: Admission | None = None
    ) -> Place:
        return Place(
            event_id=settings.event_id,
            state=state,
            position=position,
            ahead_of_you=ahead,
            estimated_wait_seconds=wait,
            poll_after_seconds=poll,
            admission=admission,
            joined_at_micros=place.joined_us,
            pre_queue_key=place.pre_queue_key,
        )

    if settings.closed_at(now):
        return answer(PlaceState.CLOSED, None, None, MAX_POLL_SECONDS)
    if watermarks.is_admitted(public, place):
        admitted_us = place.admitted_us or store.mark_admitted(place, int(now.timestamp() * 1e6))
        expires_at = datetime.fromtimestamp(admitted_us / 1e6, UTC) + timedelta(minutes=settings.session_minutes)
        if expires_at <= now:
            return answer(PlaceState.CLOSED, 0, None, MAX_POLL_SECONDS)
        token = tokens.sign(place.user_id, settings.event_id, admitted_us, expires_at)
        left = (expires_at - now).total_seconds()
        return answer(
            PlaceState.ADMITTED, 0, 0, poll_after_seconds(left), Admission(token=token, expires_at=expires_at)
        )
    if public.sold_out:
        return answer(PlaceState.SOLD_OUT, None, None, SOLD_OUT_POLL_SECONDS)
    if place.pre_queue_key is not None and not public.dealt:
        until_start = (settings.sales_start_at - now).total_seconds() if settings.sales_start_at else MAX_POLL_SECONDS
        return answer(PlaceState.PRE_QUEUE, None, None, poll_after_seconds(max(until_start, 0) * 4))
    ahead = public.waiting if position is None else max(0, position - public.admitted - 1)
    wait = _wait_for(ahead, public, settings)
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
    key = store.shuffle_key() if pre_queue else None
    place = store.PlaceItem(event_id, principal.user_id, int(now.timestamp() * 1e6), key)
    created = store.put_new_place(place)
    if not created:
        existing = store.get_place(event_id, principal.user_id)
        if existing is None:
            raise store.StoreUnavailable()
        place = existing
    return place_view(settings, _public(event_id)[0], place, now), created


def my_place(principal: Principal, event_id: UUID) -> Place:
    settings = _published_room(event_id)
    place = store.get_place(event_id, principal.user_id)
    if place is None:
        raise NotFound("You have no place in this waiting room; join it first.")
    return place_view(settings, _public(event_id)[0], place, _now())


def room_state(settings: RoomSettings, public: store.RoomPublic, paused: bool, now: datetime) -> RoomState:
    if settings.closed_at(now):
        return RoomState.CLOSED
    if settings.opens_at is None or now < settings.opens_at:
        return RoomState.NOT_OPEN
    if settings.sales_start_at is None or now < settings.sales_start_at:
        return RoomState.PRE_QUEUE
    if public.sold_out:
        return RoomState.SOLD_OUT
    return RoomState.PAUSED if paused else RoomState.OPEN


def _view(settings: RoomSettings, public: store.RoomPublic, paused: bool) -> RoomView:
    return RoomView(
        event_id=settings.event_id,
        state=room_state(settings, public, paused, _now()),
        waiting=public.waiting,
        admitted_per_minute=round(public.rate),
        opens_at=settings.opens_at,
        sales_start_at=settings.sales_start_at,
        admitted=public.admitted,
        pre_queue_key_below=public.pre_queue_below if public.dealt else 0.0,
        joined_before_micros=public.line_before_us,
    )


def public_room(event_id: UUID) -> RoomView:
    settings = _published_room(event_id)
    return _view(settings, *_public(event_id))


def public_max_age_seconds() -> int:
    """How long a CDN may keep the public state: half a tick, so it is never more than one tick behind."""
    return max(1, int(get_settings().waiting_room_tick_seconds / 2))


def _percentile(waits: list[list[float]], share: float) -> int | None:
    """The `share` percentile of waits given as [seconds, people]."""
    people = sum(count for _, count in waits)
    if not people:
        return None
    rank = max(1, math.ceil(share * people))
    for seconds, count in sorted(waits):
        rank -= int(count)
        if rank <= 0:
            return round(seconds)
    return round(max(seconds for seconds, _ in waits))


def stats(principal: Principal, event_id: UUID) -> RoomStats:
    settings = _managed_room(principal, event_id)
    room = store.get_room(event_id)
    control = room.control
    active = control.active_sessions(settings.session_minutes, time.time())
    admitted = room.public.admitted
    return RoomStats(
        waiting=room.public.waiting,
        admitted=admitted,
        active=active,
        bought=control.booked,
        abandoned=max(0, admitted - active - control.booked),
        admitted_per_minute=round(room.public.rate),
        wait_seconds=WaitSeconds(p50=_percentile(control.waits, 0.5), p95=_percentile(control.waits, 0.95)),
        paused=room.paused,
    )


def set_paused(principal: Principal, event_id: UUID, *, paused: bool) -> RoomView:
    settings = _managed_room(principal, event_id)
    store.set_paused(event_id, paused)
    _rooms.pop(event_id, None)
    return _view(settings, *_public(event_id))
