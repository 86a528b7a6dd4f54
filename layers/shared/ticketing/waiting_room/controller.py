"""The controller's tick (every WAITING_ROOM_TICK_SECONDS; functions/waiting_room_controller/app.py).

For every published event whose room is enabled and whose sale has not ended, one tick:
1. before the sale starts, counts the pre-queue (its arrival counters, read by key: three batched reads);
2. at the first tick after the start, freezes the pre-queue's counts: its keys are dealt from the lowest, so
   arriving early or refreshing fast gains nothing (watermarks.py);
3. counts the line's arrivals of the seconds that ended since the last tick (their counters, read by key);
4. learns from the catalog whether any seat is left (available, or held: holds and pending bookings may still
   come back); none left is SOLD_OUT for everyone waiting, until seats come back;
5. sets the rate from the buying path's health (AIMD, `next_rate`) and admits the next people at that rate by
   moving the watermarks, unless the room is paused or sold out, never more than the seats still free, and as
   long as the sessions open at once (admitted, not ended yet) stay below ACTIVE_CEILING_MINUTES of the
   ceiling: a booking, released holds or an expired session frees a place;
6. writes the room (one item) and logs the decision with its inputs, and emits it as metrics.

Nothing here is per buyer: a tick costs the same few store calls for ten buyers or a million.
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
from ticketing.waiting_room import health_log, store, watermarks
from ticketing.waiting_room.models import RoomSettings

# Joins written this recently may still be on their way to the counters: their second is counted next tick.
SKEW_MARGIN_SECONDS = 2.0
# The most seconds of line arrivals one tick reads (x ARRIVAL_STRIPES point reads).
MAX_COUNT_SECONDS = 30
# The rate follows the buying path's last HEALTH_WINDOW_SECONDS: it backs off when the p99 of hold and
# create calls passes WAITING_ROOM_LATENCY_TARGET_MS or more than BAD_SHARE_LIMIT of them are SEATS_LOCKED
# or 5xx. Steering on the p99 (not the p95) is what keeps the buying path's tail near its floor.
HEALTH_WINDOW_SECONDS = 15
BAD_SHARE_LIMIT = 0.05
# Additive increase, multiplicative decrease, between FLOOR_SHARE of the ceiling and the ceiling.
FLOOR_SHARE = 0.05
START_SHARE = 0.25
INCREASE_SHARE = 0.10
DECREASE_FACTOR = 0.5
# Sessions open at once (admitted, not ended) stay below this many minutes of the ceiling, so a crowd that is
# admitted faster than it buys waits, and every session that ends frees a place for the next.
ACTIVE_CEILING_MINUTES = 2
MAX_WAITS = 2000
# In a room's end game (its last seats all held, or each given to a buyer admitted by this tick), it ticks
# this many times as often (seconds_to_next_tick).
END_GAME_SPEEDUP = 4
ADMISSION_LOG_SECONDS = 30 * 60


@dataclass(frozen=True)
class Health:
    calls: int
    bad_share: float
    p99_ms: float

    def healthy(self, latency_target_ms: float) -> bool:
        return self.calls == 0 or (self.p99_ms <= latency_target_ms and self.bad_share <= BAD_SHARE_LIMIT)


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
    admitted_total: int
    pre_queue_below: float
    line_before_us: int
    waiting: int
    active_sessions: int
    sold_out: bool
    paused: bool
    calls: int
    bad_share: float
    p99_ms: float
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


def _health(event_id: UUID, control: store.RoomControl, now: float) -> Health | None:
    """The buying path's health over the samples written since the last tick; None when there are none new
    but some within HEALTH_WINDOW_SECONDS (nothing new to judge: the rate holds, rather than backing off
    twice for the same slow spell). No sample at all in the window is no traffic, which counts as healthy."""
    # Everything not counted yet (from the start the first time), and at least the last HEALTH_WINDOW_SECONDS.
    since = min(control.health_cursor, health_log.moment_key(now - HEALTH_WINDOW_SECONDS))
    samples = health_log.health_samples(event_id, since)
    window_start = health_log.moment_key(now - HEALTH_WINDOW_SECONDS)
    in_window = [key for key, _ in samples if key > window_start]
    judged = [sample for key, sample in samples if key > window_start and key > control.health_cursor]
    for key, sample in samples:
        if key > control.health_cursor:
            control.booked += sample.booked
            control.released += sample.released
            control.health_cursor = key
    if in_window and not judged:
        return None
    calls = sum(sample.calls for sample in judged)
    bad = sum(sample.bad for sample in judged)
    p99 = max((sample.p99_ms for sample in judged if sample.calls), default=0.0)
    return Health(calls=calls, bad_share=bad / calls if calls else 0.0, p99_ms=p99)


def _count_arrivals(settings: RoomSettings, room: store.Room, moment: float) -> None:
    public, control = room.public, room.control
    if not public.dealt:
        watermarks.deal(public, store.pre_queue_counts(settings.event_id))
    through = int(moment - SKEW_MARGIN_SECONDS) - 1
    if not control.line_counted_through and settings.sales_start_at is not None:
        control.line_counted_through = max(int(settings.sales_start_at.timestamp()), through - MAX_COUNT_SECONDS) - 1
    # A controller that was stopped catches up MAX_COUNT_SECONDS a tick (joins it has not counted yet are
    # still admitted when the watermark passes them: watermarks.admit).
    through = min(through, control.line_counted_through + MAX_COUNT_SECONDS)
    counts = store.line_counts(settings.event_id, control.line_counted_through, through)
    watermarks.count_line(public, control, counts, through)


def _admit(room: store.Room, wanted: int, now: float, sales_start: float) -> int:
    admitted = 0
    for joined_at, people in watermarks.admit(room.public, room.control, wanted):
        admitted += people
        wait = now - (sales_start if joined_at is None else joined_at)
        room.control.waits = [*room.control.waits[-(MAX_WAITS - 1) :], [round(wait, 1), people]]
    room.public.admitted += admitted
    room.control.admissions = [entry for entry in room.control.admissions if entry[0] >= now - ADMISSION_LOG_SECONDS]
    if admitted:
        room.control.admissions.append([now, admitted])
    return admitted


def tick_room(settings: RoomSettings, seats: SeatsLeft, now: datetime) -> Decision:
    moment = now.timestamp()
    event_id = settings.event_id
    room = store.get_room(event_id)
    public, control = room.public, room.control
    previous_rate = public.rate
    health = Health(calls=0, bad_share=0.0, p99_ms=0.0)
    admitted = 0
    active = control.active_sessions(settings.session_minutes, moment)
    if settings.sales_start_at is None or moment < settings.sales_start_at.timestamp() + SKEW_MARGIN_SECONDS:
        phase, reason = "pre-queue", "waiting for the sale to start"
        public.pre_queue_waiting = sum(store.pre_queue_counts(event_id))
    else:
        phase = "line"
        _count_arrivals(settings, room, moment)
        public.sold_out = seats.available == 0 and seats.held == 0
        judged = _health(event_id, control, moment)
        active = control.active_sessions(settings.session_minutes, moment)
        target = get_settings().waiting_room_latency_target_ms
        if judged is None:
            reason = "hold: no new health sample"
        else:
            health = judged
            public.rate, reason = next_rate(public.rate, settings.admit_per_minute, health, target)
        if room.paused:
            reason = "paused"
        elif public.sold_out:
            reason = "sold out"
        else:
            tick_seconds = get_settings().waiting_room_tick_seconds
            since_last = moment - control.last_tick_at if control.last_tick_at else tick_seconds
            quota = public.rate * min(max(since_last, 0.0), tick_seconds) / 60 + control.carry
            headroom = settings.admit_per_minute * ACTIVE_CEILING_MINUTES - active
            # Not capped by the count waiting: a join whose count was lost is still admitted once the line's
            # watermark passes the second it joined in (watermarks.admit).
            wanted = max(0, min(int(quota), headroom, seats.available))
            if wanted < min(int(quota), public.waiting):
                reason = "sessions full" if headroom <= seats.available else "no seat free"
            admitted = _admit(room, wanted, moment, settings.sales_start_at.timestamp())
            control.carry = quota - int(quota) if wanted == int(quota) else 0.0
    if phase == "line":
        control.last_tick_at = moment
    store.save_room(event_id, room)
    decision = Decision(
        event_id=str(event_id),
        phase=phase,
        reason=reason,
        previous_rate=round(previous_rate, 2),
        rate=round(public.rate, 2),
        ceiling=settings.admit_per_minute,
        admitted=admitted,
        admitted_total=public.admitted,
        pre_queue_below=public.pre_queue_below,
        line_before_us=public.line_before_us,
        waiting=public.waiting,
        active_sessions=active,
        sold_out=public.sold_out,
        paused=room.paused,
        calls=health.calls,
        bad_share=round(health.bad_share, 4),
        p99_ms=round(health.p99_ms, 1),
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


def in_end_game(decision: Decision) -> bool:
    """The room's last seats may all be sold before its next tick: none is available (all held), or this tick
    admitted at least as many buyers as seats are available (admission is capped by them, so each free seat
    has a buyer on its way). Measured: admitted buyers hold, book and pay within about a second, so a room
    whose ticks waited for "all held" almost never saw it, and learnt of its last sale up to a tick late."""
    if decision.phase != "line" or decision.sold_out:
        return False
    return decision.seats_available == 0 or decision.admitted >= decision.seats_available


def seconds_to_next_tick(decisions: list[Decision], tick_seconds: float) -> float:
    """A tick's length, or a quarter of it while a room is in its end game: the tick that sees the last hold
    become a sale says SOLD_OUT a quarter of a tick later, not a whole tick. Such ticks admit no more than
    the seats left, so ticking faster admits no faster than the seats come free."""
    end_game = any(in_end_game(decision) for decision in decisions)
    return tick_seconds / END_GAME_SPEEDUP if end_game else tick_seconds


def run_ticks(ticks: int, tick_seconds: float, budget_seconds: float, sleep: Any = time.sleep) -> int:
    """Ticks for `ticks` tick lengths, none starting after `budget_seconds` (the scheduled invocation's loop,
    inside its timeout), faster in a room's end game; answers the decisions made."""
    started = time.monotonic()
    until = started + min(budget_seconds, (ticks - 1) * tick_seconds)
    made = 0
    while True:
        tick_started = time.monotonic()
        decisions = run_tick()
        made += len(decisions)
        next_at = tick_started + seconds_to_next_tick(decisions, tick_seconds)
        if next_at > until + 1e-6:
            return made
        sleep(max(0.0, next_at - time.monotonic()))
