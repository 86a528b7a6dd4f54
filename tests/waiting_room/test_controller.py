"""The controller: a rate that follows health, sold out at once, admission resumed when seats come back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from ticketing.waiting_room.controller import Health, SeatsLeft, next_rate

TARGET_MS = 1000.0
HEALTHY = Health(calls=100, bad_share=0.0, p99_ms=120.0)
SLOW = Health(calls=100, bad_share=0.0, p99_ms=2500.0)
LOCKED = Health(calls=100, bad_share=0.2, p99_ms=120.0)


def test_the_rate_starts_at_a_quarter_of_the_ceiling_and_grows_while_healthy() -> None:
    start, why = next_rate(0.0, 600, HEALTHY, TARGET_MS)
    grown, grew = next_rate(start, 600, HEALTHY, TARGET_MS)

    assert (start, why) == (150.0, "start")
    assert (grown, grew) == (210.0, "grow")


def test_the_rate_never_passes_the_ceiling() -> None:
    assert next_rate(590.0, 600, HEALTHY, TARGET_MS) == (600.0, "grow")


def test_slow_holds_halve_the_rate() -> None:
    assert next_rate(400.0, 600, SLOW, TARGET_MS) == (200.0, "back off")


def test_locked_seats_and_errors_halve_the_rate_down_to_the_floor() -> None:
    rate = 400.0
    for _ in range(10):
        rate, why = next_rate(rate, 600, LOCKED, TARGET_MS)

    assert (rate, why) == (30.0, "back off")  # the floor: 5% of the ceiling


def test_no_traffic_counts_as_healthy() -> None:
    assert next_rate(100.0, 600, Health(calls=0, bad_share=0.0, p99_ms=0.0), TARGET_MS) == (160.0, "grow")


def _settings(event_id: str) -> Any:
    from ticketing.waiting_room.room_cache import room_settings

    settings = room_settings(UUID(event_id))
    assert settings is not None
    return settings


def test_when_no_seat_is_left_everyone_waiting_is_sold_out_and_admission_resumes_when_seats_come_back(
    rooms: Any, accounts: Any
) -> None:
    from ticketing.waiting_room import store
    from ticketing.waiting_room.controller import tick_room
    from ticketing.waiting_room.service import forget_rooms

    # Given one buyer admitted, and another who joins 15 s later (its place written with that join time)
    event = rooms.event(admit_per_minute=24)  # starts at 6 a minute: one admission a 10 s tick
    first, second = accounts.create(), accounts.create()
    rooms.join(first, event.id)
    now = datetime.now(UTC) + timedelta(seconds=5)
    assert tick_room(_settings(event.id), SeatsLeft(available=10, held=0), now).admitted == 1
    later = int((now + timedelta(seconds=15)).timestamp() * 1e6)
    assert store.put_new_place(store.PlaceItem(UUID(event.id), UUID(second.id), later, None))

    # When no seat is left at the next tick, then seats come back

    sold_out = tick_room(_settings(event.id), SeatsLeft(available=0, held=0), now + timedelta(seconds=10))

    assert (sold_out.reason, sold_out.admitted) == ("sold out", 0)
    forget_rooms()
    assert rooms.poll(second, event.id)["state"] == "SOLD_OUT"
    assert rooms.poll(first, event.id)["state"] == "ADMITTED"  # a session already given is kept
    back = tick_room(_settings(event.id), SeatsLeft(available=1, held=0), now + timedelta(seconds=20))
    assert back.admitted == 1
    assert back.sold_out is False
    forget_rooms()
    assert rooms.poll(second, event.id)["state"] == "ADMITTED"


def test_seats_held_or_in_a_pending_booking_are_not_sold_out(rooms: Any, db: Any) -> None:
    from ticketing.waiting_room.controller import seats_left_of

    event = rooms.event(rows=1, seats_per_row=2)
    db.execute(
        "UPDATE event_seats SET status = 'HELD', held_by = (SELECT organizer_id FROM events WHERE id = :id),"
        " held_until = now() + interval '5 minutes' WHERE id = :seat",
        id=event.id,
        seat=event.seat_ids[0],
    )
    db.execute(
        "UPDATE event_seats SET status = 'HELD', held_by = (SELECT organizer_id FROM events WHERE id = :id),"
        " held_until = now() - interval '1 minute' WHERE id = :seat",
        id=event.id,
        seat=event.seat_ids[1],
    )

    left = seats_left_of([UUID(event.id)])[UUID(event.id)]

    # A live hold is held; a hold past its expiry is available again
    assert left == SeatsLeft(available=1, held=1)


def test_every_decision_is_logged_with_its_inputs(rooms: Any, accounts: Any, caplog: Any) -> None:
    from ticketing.observability import logger

    event = rooms.event()
    rooms.join(accounts.create(), event.id)
    level = logger.log_level
    logger.setLevel("INFO")
    try:
        decisions = rooms.tick()
    finally:
        logger.setLevel(level)

    assert len(decisions) == 1
    logged = [record for record in caplog.records if record.getMessage() == "waiting room decision"]
    assert len(logged) == 1
    for field in ("rate", "previous_rate", "ceiling", "p99_ms", "bad_share", "seats_available", "waiting", "reason"):
        assert getattr(logged[0], field) == getattr(decisions[0], field)


def test_open_sessions_cap_admission_and_each_ended_session_frees_a_place(rooms: Any, accounts: Any) -> None:
    from ticketing.waiting_room import health_log, store
    from ticketing.waiting_room.controller import ACTIVE_CEILING_MINUTES, tick_room

    # Given a room whose last admissions filled its sessions (two minutes of a 6-a-minute ceiling), and a buyer
    event = rooms.event(admit_per_minute=6)
    rooms.join(accounts.create(), event.id)
    now = datetime.now(UTC) + timedelta(seconds=5)
    room = store.get_room(UUID(event.id))
    room.public.rate, room.control.admissions = 6.0, [[now.timestamp() - 60, 6 * ACTIVE_CEILING_MINUTES]]
    store.save_room(UUID(event.id), room)

    # When the controller ticks, and again after the buying path reported one session released (holds let go)
    full = tick_room(_settings(event.id), SeatsLeft(available=10, held=0), now)
    health_log.put_health_sample(
        UUID(event.id), int(now.timestamp()), "test", health_log.HealthSample(1, 0, 50.0, 0, 1)
    )
    freed = tick_room(_settings(event.id), SeatsLeft(available=10, held=0), now + timedelta(seconds=60))

    # Then nobody is admitted while the sessions are full, and the released session lets the next one in
    assert (full.reason, full.admitted) == ("sessions full", 0)
    assert (freed.admitted, freed.active_sessions) == (1, 6 * ACTIVE_CEILING_MINUTES - 1)


def test_no_more_are_admitted_than_seats_are_free(rooms: Any, accounts: Any) -> None:
    from ticketing.waiting_room.controller import tick_room

    # Given three buyers waiting and a high ceiling
    event = rooms.event(admit_per_minute=600)
    for _ in range(3):
        rooms.join(accounts.create(), event.id)
    now = datetime.now(UTC) + timedelta(seconds=5)

    # When the controller ticks with one seat free
    decision = tick_room(_settings(event.id), SeatsLeft(available=1, held=5), now)

    # Then it admits one, and says why
    assert (decision.admitted, decision.reason, decision.waiting) == (1, "no seat free", 2)


def test_a_tick_costs_the_same_few_store_calls_whatever_the_crowd(rooms: Any, accounts: Any, monkeypatch: Any) -> None:
    from ticketing.waiting_room import store
    from ticketing.waiting_room.controller import tick_room

    def calls_of_one_tick(event: Any, at: datetime) -> int:
        made: list[str] = []
        call = store._guarded

        def counted(operation: str, **arguments: Any) -> Any:
            made.append(operation)
            return call(operation, **arguments)

        with monkeypatch.context() as patch:
            patch.setattr(store, "_guarded", counted)
            tick_room(_settings(event.id), SeatsLeft(available=1000, held=0), at)
        return len(made)

    # Given two rooms, one with 2 buyers in line and one with 40
    small, large = rooms.event(), rooms.event()
    for _ in range(2):
        rooms.join(accounts.create(), small.id)
    for _ in range(40):
        rooms.join(accounts.create(), large.id)
    at = datetime.now(UTC) + timedelta(seconds=5)

    # When each ticks
    # Then both cost the same number of store calls (no call per buyer)
    assert calls_of_one_tick(small, at) == calls_of_one_tick(large, at)


def test_a_slow_spell_halves_the_rate_once_and_the_rate_holds_until_new_samples_come(rooms: Any, accounts: Any) -> None:
    from ticketing.waiting_room import health_log
    from ticketing.waiting_room.controller import tick_room

    # Given a room admitting at its start rate, and one slow health sample written after that tick
    event = rooms.event(admit_per_minute=600)
    rooms.join(accounts.create(), event.id)
    now = datetime.now(UTC) + timedelta(seconds=5)
    start = tick_room(_settings(event.id), SeatsLeft(available=100, held=0), now)
    health_log.put_health_sample(
        UUID(event.id), int(now.timestamp()) + 1, "test", health_log.HealthSample(50, 0, 60_000.0, 0)
    )

    # When the controller ticks twice, the sample still within its window both times
    slow = tick_room(_settings(event.id), SeatsLeft(available=100, held=0), now + timedelta(seconds=2))
    after = tick_room(_settings(event.id), SeatsLeft(available=100, held=0), now + timedelta(seconds=4))

    # Then the rate halves once for that sample, and holds at the next tick
    assert (start.rate, slow.reason, slow.rate) == (150.0, "back off", 75.0)
    assert (after.reason, after.rate) == ("hold: no new health sample", 75.0)


def _selling(**changes: Any) -> Any:
    """A tick's decision for a room selling with 3 seats available, 2 held and 5 people waiting."""
    from dataclasses import replace

    from ticketing.waiting_room.controller import Decision

    selling = Decision(
        event_id="e", phase="line", reason="grow", previous_rate=1.0, rate=1.0, ceiling=1, admitted=0,
        admitted_total=0, pre_queue_below=1.0, line_before_us=0, waiting=5, active_sessions=0, sold_out=False,
        paused=False, calls=0, bad_share=0.0, p99_ms=0.0, seats_available=3, seats_held=2,
    )  # fmt: skip
    return replace(selling, **changes)


def test_a_room_whose_last_seats_are_all_held_ticks_four_times_as_often() -> None:
    from dataclasses import replace

    from ticketing.waiting_room.controller import seconds_to_next_tick

    selling = _selling()
    end_game = replace(selling, seats_available=0)
    sold_out = replace(end_game, seats_held=0, sold_out=True)

    assert seconds_to_next_tick([selling], 10) == 10
    assert seconds_to_next_tick([selling, end_game], 10) == 2.5
    assert seconds_to_next_tick([sold_out], 10) == 10


def test_a_room_that_admitted_a_buyer_for_each_seat_left_ticks_four_times_as_often() -> None:
    from dataclasses import replace

    from ticketing.waiting_room.controller import seconds_to_next_tick

    # Given a room with 3 seats available and 5 people waiting, 2 admitted at the last tick
    selling = _selling(admitted=2, admitted_total=2, active_sessions=2)
    # When a tick admits as many buyers as seats are available (its cap)
    last_buyers_in = replace(selling, admitted=3, reason="no seat free")

    # Then the next tick comes a quarter of a tick later; one that admitted fewer keeps the tick's length
    assert seconds_to_next_tick([last_buyers_in], 10) == 2.5
    assert seconds_to_next_tick([selling], 10) == 10
    assert seconds_to_next_tick([replace(selling, phase="pre-queue", admitted=0, seats_available=0)], 10) == 10


def test_a_tick_admits_for_the_time_since_the_last_so_quarter_ticks_admit_a_quarter(rooms: Any, accounts: Any) -> None:
    from ticketing.waiting_room.controller import tick_room

    # Given 30 buyers in line for a room whose rate starts at 60 a minute (10 a 10 s tick)
    event = rooms.event(admit_per_minute=240)
    for _ in range(30):
        rooms.join(accounts.create(), event.id)
    now = datetime.now(UTC) + timedelta(seconds=5)

    # When it ticks, then ticks again a quarter of a tick later (its end game's pace), at 84 a minute
    first = tick_room(_settings(event.id), SeatsLeft(available=100, held=0), now)
    quarter = tick_room(_settings(event.id), SeatsLeft(available=100, held=0), now + timedelta(seconds=2.5))

    # Then the second admits for 2.5 s of its rate (3.5 people: 3, the half carried), not a whole tick's 14
    assert (first.admitted, first.rate) == (10, 60.0)
    assert (quarter.admitted, quarter.rate) == (3, 84.0)
