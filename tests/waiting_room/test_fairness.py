"""Fair order: a uniform shuffle of the pre-queue, then first come, first served (docs/waiting-room.md).

Both run against moto's DynamoDB with real boto3 calls. The shuffle's test is a seeded run, so it gives the
same verdict every time; its randomness in production is the operating system's (secrets.token_hex).
"""

from __future__ import annotations

import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from itertools import combinations
from typing import Any
from uuid import UUID, uuid4

import pytest

from ticketing.auth.principal import Principal, Role

# chi-square's critical value for 9 degrees of freedom at a 1% significance level.
CHI_SQUARE_9_DF_1_PERCENT = 21.666
QUARTILES = 4


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


def _positions(event_id: str, user_ids: list[UUID]) -> dict[UUID, int]:
    from ticketing.waiting_room import store

    places = {user_id: store.get_place(UUID(event_id), user_id) for user_id in user_ids}
    assert all(place is not None and place.position is not None for place in places.values())
    return {user_id: place.position for user_id, place in places.items() if place and place.position}


def test_those_who_join_after_the_start_are_admitted_in_the_order_they_joined(rooms: Any) -> None:
    from ticketing.waiting_room import service

    # Given an open sale, and 240 buyers joining from 8 threads at once
    event = rooms.event(admit_per_minute=100_000)
    buyers = [uuid4() for _ in range(240)]
    finished: list[tuple[int, UUID]] = []
    lock = threading.Lock()

    def join(user_id: UUID) -> None:
        place, created = service.join(Principal(user_id, Role.USER), UUID(event.id))
        assert created
        assert place.state == "WAITING"
        with lock:
            finished.append((time.monotonic_ns(), user_id))

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(join, buyers))

    # When the controller gives places and admits everyone
    decisions = rooms.tick()

    # Then admission order (their places) follows join order with a Kendall tau of at least 0.99
    assert decisions[0].admitted == len(buyers)
    join_order = [user_id for _, user_id in sorted(finished)]
    positions = _positions(event.id, buyers)
    admission_order = sorted(buyers, key=positions.__getitem__)
    assert sorted(positions.values()) == list(range(1, len(buyers) + 1))
    assert kendall_tau(join_order, admission_order) >= 0.99


def test_the_pre_queue_is_dealt_in_a_uniformly_random_order(rooms: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from ticketing.waiting_room import service, store

    # Given 400 buyers joining the pre-queue one after the other (seeded shuffle keys)
    seeded = random.Random(20261203)
    monkeypatch.setattr(store, "shuffle_key", lambda: f"{seeded.getrandbits(64):016x}")
    event = rooms.event(sale_starts_in=timedelta(hours=1), opened_ago=timedelta(minutes=10), admit_per_minute=1)
    join_order = [uuid4() for _ in range(400)]
    for user_id in join_order:
        place, created = service.join(Principal(user_id, Role.USER), UUID(event.id))
        assert created
        assert place.state == "PRE_QUEUE"
        assert place.position is None

    # When the sale starts and the controller deals the pre-queue
    start = rooms._db.value("SELECT sales_start_at FROM events WHERE id = :id", id=event.id)
    decisions = rooms.tick(start + timedelta(seconds=3))
    assert [decision.phase for decision in decisions] == ["line"]

    # Then every one has a distinct place, and where one joined says nothing about where one stands:
    # a chi-square test of independence between join quartile and place quartile (9 df, 1%)
    positions = _positions(event.id, join_order)
    assert sorted(positions.values()) == list(range(1, 401))
    counts = [[0] * QUARTILES for _ in range(QUARTILES)]
    for index, user_id in enumerate(join_order):
        counts[index * QUARTILES // 400][(positions[user_id] - 1) * QUARTILES // 400] += 1
    expected = 400 / QUARTILES / QUARTILES
    chi_square = sum((observed - expected) ** 2 / expected for row in counts for observed in row)
    assert chi_square < CHI_SQUARE_9_DF_1_PERCENT, counts
    dealt_order = sorted(join_order, key=positions.__getitem__)
    assert abs(kendall_tau(join_order, dealt_order)) < 0.1


def test_a_test_that_sees_join_order_kept_in_the_pre_queue_fails_the_chi_square() -> None:
    # The statistic rejects an unshuffled deal: join quartile = place quartile for everyone.
    counts = [[100 if row == column else 0 for column in range(QUARTILES)] for row in range(QUARTILES)]
    expected = 400 / QUARTILES / QUARTILES
    chi_square = sum((observed - expected) ** 2 / expected for row in counts for observed in row)

    assert chi_square > CHI_SQUARE_9_DF_1_PERCENT
