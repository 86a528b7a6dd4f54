"""Fair order: a uniform shuffle of the pre-queue, then first come, first served (docs/waiting-room.md).

Both run against moto's DynamoDB with real boto3 calls. The shuffle's test is a seeded run, so it gives the
same verdict every time; its randomness in production is the operating system's (secrets.randbits).
"""

from __future__ import annotations

import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from itertools import combinations
from typing import Any
from uuid import UUID, uuid4

import pytest

from ticketing.auth.principal import Principal, Role

# chi-square's critical value for 9 degrees of freedom at a 1% significance level.
CHI_SQUARE_9_DF_1_PERCENT = 21.666
QUARTILES = 4
MAX_TICKS = 30


def kendall_tau(first: list[Any], second: list[Any]) -> float:
    """Kendall's tau-a between two orderings of the same items (1 the same order, -1 reversed)."""
    rank = {item: index for index, item in enumerate(second)}
    concordant = discordant = 0
    for a, b in combinations(first, 2):
        if rank[a] < rank[b]:
            concordant += 1
        else:
            discordant += 1
    return (concordant - discordant) / (concordant + discordant)


def _admission_order(rooms: Any, event_id: str, user_ids: list[UUID], first_tick: datetime) -> list[list[UUID]]:
    """Ticks the controller every 10 s from `first_tick` until everyone is admitted; answers who was admitted
    at each tick (by the watermarks the room published), each tick's newcomers in their order of service."""
    from ticketing.waiting_room import store, watermarks

    places = [store.get_place(UUID(event_id), user_id) for user_id in user_ids]
    assert all(place is not None for place in places)
    waiting = [place for place in places if place is not None]
    admitted: list[list[UUID]] = []
    for tick in range(MAX_TICKS):
        decisions = rooms.tick(first_tick + timedelta(seconds=10 * tick))
        assert [decision.phase for decision in decisions] == ["line"]
        public, _ = store.get_public(UUID(event_id))
        newcomers = [place for place in waiting if watermarks.is_admitted(public, place)]
        waiting = [place for place in waiting if place not in newcomers]
        newcomers.sort(key=lambda place: (place.pre_queue_key or 0.0, place.joined_us))
        admitted.append([place.user_id for place in newcomers])
        if not waiting:
            return admitted
    raise AssertionError(f"{len(waiting)} still waiting after {MAX_TICKS} ticks")


def test_those_who_join_after_the_start_are_admitted_in_the_order_they_joined(rooms: Any) -> None:
    from ticketing.waiting_room import service

    # Given an open sale, and 240 buyers joining from 8 threads at once
    event = rooms.event(admit_per_minute=1200, rows=10, seats_per_row=50)
    buyers = [uuid4() for _ in range(240)]
    asked_at: list[tuple[int, UUID]] = []
    lock = threading.Lock()

    def join(user_id: UUID) -> None:
        asked = time.monotonic_ns()  # the order they joined is the order they asked to
        place, created = service.join(Principal(user_id, Role.USER), UUID(event.id))
        assert created
        assert place.state == "WAITING"
        with lock:
            asked_at.append((asked, user_id))

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(join, buyers))

    # When the controller admits them over several ticks (its rate starts at a quarter of the ceiling)
    by_tick = _admission_order(rooms, event.id, buyers, datetime.now(UTC) + timedelta(seconds=5))

    # Then they come in batches, and admission order follows join order with a Kendall tau of at least 0.99
    assert len(by_tick) >= 3
    join_order = [user_id for _, user_id in sorted(asked_at)]
    admission_order = [user_id for batch in by_tick for user_id in batch]
    assert sorted(admission_order) == sorted(buyers)
    assert kendall_tau(join_order, admission_order) >= 0.99


def test_the_pre_queue_is_dealt_in_a_uniformly_random_order(rooms: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from ticketing.waiting_room import service, store

    # Given 400 buyers joining the pre-queue one after the other (seeded shuffle keys)
    seeded = random.Random(20261203)
    monkeypatch.setattr(store, "shuffle_key", seeded.random)
    event = rooms.event(
        sale_starts_in=timedelta(hours=1),
        opened_ago=timedelta(minutes=10),
        admit_per_minute=1200,
        rows=10,
        seats_per_row=50,
    )
    join_order = [uuid4() for _ in range(400)]
    for user_id in join_order:
        place, created = service.join(Principal(user_id, Role.USER), UUID(event.id))
        assert created
        assert place.state == "PRE_QUEUE"
        assert place.position is None

    # When the sale starts and the controller deals the pre-queue over its ticks
    start = rooms._db.value("SELECT sales_start_at FROM events WHERE id = :id", id=event.id)
    by_tick = _admission_order(rooms, event.id, join_order, start + timedelta(seconds=3))

    # Then it is dealt gradually, in the order of the keys, and where one joined says nothing about when one is
    # admitted: a chi-square test of independence between join quartile and admission quartile (9 df, 1%)
    assert len(by_tick) >= 3
    assert len(by_tick[0]) < 100
    admission_order = [user_id for batch in by_tick for user_id in batch]
    keys = _keys(event.id, join_order)
    assert admission_order == sorted(join_order, key=keys.__getitem__)
    rank = {user_id: index for index, user_id in enumerate(admission_order)}
    counts = [[0] * QUARTILES for _ in range(QUARTILES)]
    for index, user_id in enumerate(join_order):
        counts[index * QUARTILES // 400][rank[user_id] * QUARTILES // 400] += 1
    expected = 400 / QUARTILES / QUARTILES
    chi_square = sum((observed - expected) ** 2 / expected for row in counts for observed in row)
    assert chi_square < CHI_SQUARE_9_DF_1_PERCENT, counts
    assert abs(kendall_tau(join_order, admission_order)) < 0.1


def _keys(event_id: str, user_ids: list[UUID]) -> dict[UUID, float]:
    from ticketing.waiting_room import store

    keys: dict[UUID, float] = {}
    for user_id in user_ids:
        place = store.get_place(UUID(event_id), user_id)
        assert place is not None
        assert place.pre_queue_key is not None
        keys[user_id] = place.pre_queue_key
    return keys


def test_a_test_that_sees_join_order_kept_in_the_pre_queue_fails_the_chi_square() -> None:
    # The statistic rejects an unshuffled deal: join quartile = place quartile for everyone.
    counts = [[100 if row == column else 0 for column in range(QUARTILES)] for row in range(QUARTILES)]
    expected = 400 / QUARTILES / QUARTILES
    chi_square = sum((observed - expected) ** 2 / expected for row in counts for observed in row)

    assert chi_square > CHI_SQUARE_9_DF_1_PERCENT
