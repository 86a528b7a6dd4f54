"""The controller's tick (every WAITING_ROOM_TICK_SECONDS; functions/waiting_room_controller/app.py).

For every published event whose room is enabled and whose sale has not ended, one tick:
1. before the sale starts, counts the pre-queue;
2. at the first tick after the start, deals the pre-queue: places ordered by the uniformly random key each got
   when it joined, so arriving early or refreshing fast gains nothing;
3. gives the next places to those who joined since, in the order they joined (first come, first served);
4. learns from the catalog whether any seat is left (available, or held: holds and pending bookings may still
   come back); none left is SOLD_OUT for everyone waiting, until seats come back;
5. sets the rate from the buying path's health (AIMD, `next_rate`) and admits the next places at that rate,
   unless the room is paused or sold out, and as long as the sessions open at once (admitted, not booked
   yet, not expired) stay below ACTIVE_CEILING_MINUTES of the ceiling: each booking frees a place;
6. writes the room's state (one item) and logs the decision with its inputs, and emits it as metrics.

The catalog is read in one short transaction for every room at once; the store is called after it commits.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from ticketing.catalog.events.repository import section_counts
from ticketing.catalog.events.room_settings import rooms_open_at
from ticketing.config import get_settings
from ticketing.db import transaction
from ticketing.observability import count, logger, metrics
from ticketing.waiting_room import store
from ticketing.waiting_room.models import RoomSettings

# Joins written this recently may still be on their way to the line's index: they get places next tick.
SKEW_MARGIN_SECONDS = 2.0
# The rate follows the buying path's last HEALTH_WINDOW_SECONDS: it backs off when the p95 of hold and
# create calls passes WAITING_ROOM_LATENCY_TARGET_MS or more than BAD_SHARE_LIMIT of them are SEATS_LOCKED
# or 5xx.
HEALTH_WINDOW_SECONDS = 30
BAD_SHARE_LIMIT = 0.05
# Additive increase, multiplicative decrease, between FLOOR_SHARE of the ceiling and the ceiling.
FLOOR_SHARE = 0.05
START_SHARE = 0.25
INCREASE_SHARE = 0.10
DECREASE_FACTOR = 0.5
# Sessions open at once (admitted, not booked, not expired) stay below this many minutes of the ceiling, so a
# crowd that admits faster than it buys waits, and every booking frees a place for the next.
ACTIVE_CEILING_MINUTES = 2
# One place in SAMPLE_EVERY has its join time kept, to measure waits (stats p50/p95).
SAMPLE_EVERY = 20
MAX_WAITS = 2000
ADMISSION_LOG_SECONDS = 30 * 60


@dataclass(frozen=True)
class Health:
    calls: int
    bad_share: float
    p95_ms: float

    def healthy(self, latency_target_ms: float) -> bool:
        return self.calls == 0 or (self.p95_ms <= latency_target_ms and self.bad_share <= BAD_SHARE_LIMIT)


@dataclass(frozen=True)
class SeatsLeft:
    available: int
    held: int


@dataclass(frozen=True)
class Decision:
    """One tick of one room: what it saw and what it did."""

    event_id: str
    phase: str
    reason: str
    previous_rate: float
    rate: float
    ceiling: int
    admitted: int
    admitted_through: int
    waiting: int
    sold_out: bool
    paused: bool
    calls: int
    bad_share: float
    p95_ms: float
    seats_available: int
    seats_held: int


def next_rate(previous: float, ceiling: int, health: Health, latency_target_ms: float) -> tuple[float, str]:
    """Additive increase while healthy, multiplicative decrease when not, within [floor, ceiling]."""
    floor = max(1.0, ceiling * FLOOR_SHARE)
    if previous <= 0:
        return max(floor, ceiling * START_SHARE), "start"
    if not health.healthy(latency_target_ms):
        return max(floor, previous * DECREASE_FACTOR), "back off"
    return min(float(ceiling), max(floor, previous + ceiling * INCREASE_SHARE)), "grow"


def seats_left_of(event_ids: list[UUID]) -> dict[UUID, SeatsLeft]:
    """The catalog's counts (a hold past its expiry counts as available)."""
    left: dict[UUID, SeatsLeft] = {}
    with transaction() as tx:
        for event_id in event_ids:
            sections = section_counts(tx, event_id)
            left[event_id] = SeatsLeft(
                available=sum(section["available"] for section in sections),
                held=sum(section["held"] for section in sections),
            )
    return left


def _health(event_id: UUID, room: store.RoomRecord, now: float) -> Health:
    # Everything not counted yet (from the start the first time), and at least the last HEALTH_WINDOW_SECONDS.
    since = min(room.health_cursor, store.moment_key(now - HEALTH_WINDOW_SECONDS))
    samples = store.health_samples(event_id, since)
    recent = [sample for key, sample in samples if key > store.moment_key(now - HEALTH_WINDOW_SECONDS)]
    for key, sample in samples:
        if key > room.health_cursor:
            room.booked += sample.booked
            room.health_cursor = key
    calls = sum(sample.calls for sample in recent)
    bad = sum(sample.bad for sample in recent)
    p95 = max((sample.p95_ms for sample in recent if sample.calls), default=0.0)
    return Health(calls=calls, bad_share=bad / calls if calls else 0.0, p95_ms=p95)


def _give_places(room: store.RoomRecord, places: list[store.PlaceItem]) -> None:
    places.sort(key=lambda place: place.line_key)
    for place in places:
        place.position = room.next_position
        if room.next_position % SAMPLE_EVERY == 1 and len(room.wait_samples) < MAX_WAITS:
            room.wait_samples[str(room.next_position)] = place.joined_us
        room.next_position += 1
    store.store_positions(places)


def _deal_pre_queue(event_id: UUID, room: store.RoomRecord) -> None:
    """Everyone in the pre-queue gets a place, in the order of their random keys: a uniform shuffle."""
    _give_places(room, list(store.places_in_line(event_id, pre_queue=True)))
    room.dealt = True
    room.pre_queue = 0


def _place_new_joiners(event_id: UUID, room: store.RoomRecord, now: float) -> None:
    cut = f"{int((now - SKEW_MARGIN_SECONDS) * 1e6):017d}"
    joiners = list(store.places_in_line(event_id, pre_queue=False, after=room.line_cursor, before=cut))
    if joiners:
        _give_places(room, joiners)
        room.line_cursor = max(place.line_key for place in joiners)


def _admit(room: store.RoomRecord, admissions: int, now: float) -> None:
    room.admitted_through += admissions
    for position, joined_us in list(room.wait_samples.items()):
        if int(position) <= room.admitted_through:
            room.waits = [*room.waits[-(MAX_WAITS - 1) :], now - joined_us / 1e6]
            del room.wait_samples[position]
    room.admissions = [entry for entry in room.admissions if entry[0] >= now - ADMISSION_LOG_SECONDS]
    if admissions:
        room.admissions.append([now, admissions])


def tick_room(settings: RoomSettings, seats: SeatsLeft, now: datetime) -> Decision:
    moment = now.timestamp()
    event_id = settings.event_id
    room = store.get_room(event_id)
    previous_rate = room.rate
    health = Health(calls=0, bad_share=0.0, p95_ms=0.0)
    admitted = 0
    if settings.sales_start_at is None or moment < settings.sales_start_at.timestamp() + SKEW_MARGIN_SECONDS:
        phase, reason = "pre-queue", "waiting for the sale to start"
        room.pre_queue = sum(1 for _ in store.places_in_line(event_id, pre_queue=True))
    else:
        phase = "line"
        if not room.dealt:
            _deal_pre_queue(event_id, room)
        _place_new_joiners(event_id, room, moment)
        room.sold_out = seats.available == 0 and seats.held == 0
        health = _health(event_id, room, moment)
        target = get_settings().waiting_room_latency_target_ms
        room.rate, reason = next_rate(room.rate, settings.admit_per_minute, health, target)
        if room.paused:
            reason = "paused"
        elif room.sold_out:
            reason = "sold out"
        else:
            quota = room.rate * get_settings().waiting_room_tick_seconds / 60 + room.carry
            waiting_placed = room.next_position - 1 - room.admitted_through
            headroom = settings.admit_per_minute * ACTIVE_CEILING_MINUTES - room.active_sessions(
                settings.session_minutes, moment
            )
            admitted = max(0, min(int(quota), waiting_placed, headroom))
            if headroom < min(int(quota), waiting_placed):
                reason = "sessions full"
            room.carry = quota - int(quota) if admitted == int(quota) else 0.0
        _admit(room, admitted, moment)
    store.save_room(event_id, room)
    decision = Decision(
        event_id=str(event_id),
        phase=phase,
        reason=reason,
        previous_rate=round(previous_rate, 2),
        rate=round(room.rate, 2),
        ceiling=settings.admit_per_minute,
        admitted=admitted,
        admitted_through=room.admitted_through,
        waiting=room.waiting,
        sold_out=room.sold_out,
        paused=room.paused,
        calls=health.calls,
        bad_share=round(health.bad_share, 4),
        p95_ms=round(health.p95_ms, 1),
        seats_available=seats.available,
        seats_held=seats.held,
    )
    _report(decision)
    return decision


def _report(decision: Decision) -> None:
    fields: dict[str, Any] = asdict(decision)
    logger.info("waiting room decision", extra=fields)
    count("WaitingRoomAdmitted", decision.admitted)
    metrics.add_metric(name="WaitingRoomAdmitRate", unit="Count", value=decision.rate)
    metrics.add_metric(name="WaitingRoomWaiting", unit="Count", value=decision.waiting)
    if decision.reason == "back off":
        count("WaitingRoomBackOffs")
    if decision.sold_out:
        count("WaitingRoomSoldOutTicks")


def run_tick(now: datetime | None = None) -> list[Decision]:
    """One tick of every open room; a room whose store call fails is skipped (logged), the others go on."""
    now = now or datetime.now(UTC)
    with transaction() as tx:
        rooms = [RoomSettings.from_row(row) for row in rooms_open_at(tx, now)]
    rooms = [room for room in rooms if room.opens_at is not None and room.opens_at <= now]
    seats = seats_left_of([room.event_id for room in rooms])
    decisions: list[Decision] = []
    for settings in rooms:
        try:
            decisions.append(tick_room(settings, seats[settings.event_id], now))
        except store.StoreUnavailable:
            logger.exception("waiting room tick failed", extra={"eventId": str(settings.event_id)})
    return decisions


def run_ticks(ticks: int, tick_seconds: float, budget_seconds: float, sleep: Any = time.sleep) -> int:
    """Up to `ticks` ticks, `tick_seconds` apart, none starting after `budget_seconds` (the scheduled
    invocation's loop, inside its timeout); answers the decisions made."""
    started = time.monotonic()
    made = 0
    for index in range(ticks):
        if index and index * tick_seconds > budget_seconds:
            break
        if index:
            sleep(max(0.0, started + index * tick_seconds - time.monotonic()))
        made += len(run_tick())
    return made
