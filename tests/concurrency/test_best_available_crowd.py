"""A crowd of best-available buyers at once: distinct adjacent blocks, no waiting, nothing left unfillable
(docs/best-available.md)."""

from __future__ import annotations

import time
from typing import Any

import pytest

pytestmark = [
    pytest.mark.concurrency,
    pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning"),
]

# A buyer told SEATS_LOCKED retries as told, a bounded number of times.
MAX_ATTEMPTS = 5


def _buy_best(api: Any, token: str, event_id: str, quantity: int) -> dict[str, Any]:
    for attempt in range(1, MAX_ATTEMPTS + 1):
        response = api.post("/api/bookings/hold-best", json={"eventId": event_id, "quantity": quantity}, token=token)
        if response.error_code != "SEATS_LOCKED":
            break
        time.sleep(0.05 * attempt)
    seats = response.json().get("seats", []) if response.status == 200 else []
    return {"status": response.status, "code": response.error_code, "attempts": attempt, "seats": seats}


def _free_runs(db: Any, event_id: str) -> list[int]:
    """The length of every run of free seats in the event."""
    rows = db.rows(
        "SELECT count(*) AS size FROM ("
        " SELECT vs.row_index, vs.number - row_number() OVER (PARTITION BY vs.row_index ORDER BY vs.number) AS island"
        " FROM event_seats es JOIN venue_seats vs ON vs.id = es.venue_seat_id"
        " WHERE es.event_id = :event AND es.status = 'AVAILABLE') free GROUP BY row_index, island",
        event=event_id,
    )
    return [row["size"] for row in rows]


def test_a_crowd_of_best_available_buyers_gets_distinct_adjacent_blocks(
    api: Any, accounts: Any, catalog: Any, db: Any, in_processes: Any
) -> None:
    event = catalog.event(rows=8, seats_per_row=16, max_tickets_per_user=10)
    buyers = [accounts.create() for _ in range(20)]
    quantities = [2 + i % 5 for i in range(len(buyers))]  # 2..6 seats, 80 of the 128
    # The function is loaded before the clients fork, as in warm execution environments.
    assert api.get("/api/bookings", token=buyers[0].token).status == 200

    results = in_processes(
        _buy_best, [(api, buyer.token, event.id, quantity) for buyer, quantity in zip(buyers, quantities, strict=True)]
    )

    assert [result["status"] for result in results] == [200] * len(buyers), results
    for result, quantity in zip(results, quantities, strict=True):
        seats = result["seats"]
        assert len(seats) == quantity
        assert len({seat["row"] for seat in seats}) == 1
        numbers = [seat["number"] for seat in seats]
        assert numbers == list(range(numbers[0], numbers[0] + quantity))
    chosen = [seat["id"] for result in results for seat in result["seats"]]
    assert len(chosen) == len(set(chosen)) == sum(quantities)
    holders = db.rows(
        "SELECT held_by::text AS holder, count(*) AS seats FROM event_seats WHERE status = 'HELD' GROUP BY held_by"
    )
    assert {row["holder"]: row["seats"] for row in holders} == {
        buyer.id: quantity for buyer, quantity in zip(buyers, quantities, strict=True)
    }
    # What is left is still fillable: buyers of two seats, then of one, one after another, take every seat.
    left = sum(_free_runs(db, event.id))
    assert left == 8 * 16 - sum(quantities)
    sold_after = {2: 0, 1: 0}
    for quantity in (2, 1):
        for _ in range(left):
            response = api.post(
                "/api/bookings/hold-best",
                json={"eventId": event.id, "quantity": quantity},
                token=accounts.create().token,
            )
            if response.status != 200:
                assert response.error_code == "NO_ADJACENT_SEATS", response.body
                break
            sold_after[quantity] += quantity
    assert sold_after[2] + sold_after[1] == left
    assert _free_runs(db, event.id) == []
