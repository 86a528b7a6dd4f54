"""Real concurrent buyers against the real PostgreSQL: every seat is sold exactly once.

Each client is its own process (forked, so it shares the already imported handlers but opens its own
database connections), because a Powertools resolver keeps per-request state and is not thread-safe; a
process per client is what separate Lambda execution environments are.
"""

from __future__ import annotations

import random
import time
from typing import Any

import pytest

pytestmark = [
    pytest.mark.concurrency,
    # The parent has idle helper threads; a forked child only uses threads it starts itself.
    pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning"),
]


def _hold(api: Any, token: str, event_id: str, seat_ids: list[str]) -> tuple[int, str | None]:
    # That a loser never waits is pinned deterministically with a row_locker in tests/bookings/test_holds.py.
    response = api.post("/api/bookings/hold-seats", json={"eventId": event_id, "seatIds": seat_ids}, token=token)
    return response.status, response.error_code


def test_many_buyers_racing_for_the_same_seats_have_exactly_one_winner(
    api: Any, accounts: Any, catalog: Any, db: Any, in_processes: Any
) -> None:
    event = catalog.event()
    seats = event.seat_ids[:4]
    buyers = [accounts.create() for _ in range(24)]

    results = in_processes(_hold, [(api, buyer.token, event.id, seats) for buyer in buyers])

    winners = [i for i, (status, _) in enumerate(results) if status == 200]
    assert len(winners) == 1, results
    losers = {code for status, code in results if status != 200}
    assert losers <= {"SEATS_LOCKED", "SEATS_UNAVAILABLE"}
    holders = db.rows(
        "SELECT DISTINCT held_by::text AS holder FROM event_seats WHERE id = ANY(CAST(:ids AS uuid[]))", ids=seats
    )
    assert holders == [{"holder": buyers[winners[0]].id}]


def _shop_until_sold_out(api: Any, token: str, event_id: str, seat_ids: list[str], seed: int) -> dict[str, int]:
    rng = random.Random(seed)
    tally = {"holds": 0, "confirmed": 0, "cancelled": 0, "conflicts": 0}
    for _ in range(12):
        wanted = rng.sample(seat_ids, rng.randint(1, 4))
        held = api.post("/api/bookings/hold-seats", json={"eventId": event_id, "seatIds": wanted}, token=token)
        if held.status != 200:
            assert held.status == 409, held.body
            assert held.error_code in {"SEATS_LOCKED", "SEATS_UNAVAILABLE"}, held.body
            tally["conflicts"] += 1
            continue
        tally["holds"] += 1
        created = api.post("/api/bookings/create", json={"eventId": event_id, "seatIds": wanted}, token=token)
        for _ in range(100):  # another buyer is trying for our seats; retry as told, a bounded number of times
            if created.error_code != "SEATS_LOCKED":
                break
            time.sleep(0.05)
            created = api.post("/api/bookings/create", json={"eventId": event_id, "seatIds": wanted}, token=token)
        assert created.status == 201, created.body
        booking = created.json()
        roll = rng.random()
        if roll < 0.7:
            body = {"paymentToken": "tok_visa", "amount": booking["total"], "version": booking["version"]}
            confirmed = api.post(f"/api/bookings/{booking['id']}/confirm", json=body, token=token)
            assert confirmed.status == 200, confirmed.body
            tally["confirmed"] += 1
            if roll < 0.1:
                cancelled = api.post(f"/api/bookings/{booking['id']}/cancel", json={"version": 2}, token=token)
                assert cancelled.status == 200, cancelled.body
                tally["cancelled"] += 1
        elif roll < 0.85:
            cancelled = api.post(f"/api/bookings/{booking['id']}/cancel", json={}, token=token)
            assert cancelled.status == 200, cancelled.body
            tally["cancelled"] += 1
    return tally


def _assert_booking_invariants(db: Any) -> None:
    assert (
        db.rows(
            "SELECT event_seat_id FROM booking_items WHERE booking_status IN ('PENDING', 'CONFIRMED')"
            " GROUP BY event_seat_id HAVING count(*) > 1"
        )
        == []
    )
    assert (
        db.rows(
            "SELECT es.id FROM event_seats es WHERE es.status = 'BOOKED' AND (SELECT count(*) FROM booking_items bi"
            " JOIN bookings b ON b.id = bi.booking_id WHERE bi.event_seat_id = es.id AND b.status = 'CONFIRMED') <> 1"
        )
        == []
    )
    booked = db.value("SELECT count(*) FROM event_seats WHERE status = 'BOOKED'")
    confirmed_items = db.value(
        "SELECT count(*) FROM booking_items bi JOIN bookings b ON b.id = bi.booking_id WHERE b.status = 'CONFIRMED'"
    )
    assert booked == confirmed_items
    assert (
        db.rows(
            "SELECT b.id FROM bookings b WHERE b.total <> b.subtotal - b.discount"
            " OR b.subtotal <> (SELECT coalesce(sum(price), 0) FROM booking_items WHERE booking_id = b.id)"
        )
        == []
    )
    # Seats of live bookings point back at them; seats of finished bookings were released.
    assert (
        db.rows(
            "SELECT bi.event_seat_id FROM booking_items bi JOIN bookings b ON b.id = bi.booking_id"
            " JOIN event_seats es ON es.id = bi.event_seat_id"
            " WHERE b.status IN ('PENDING', 'CONFIRMED') AND es.booking_id IS DISTINCT FROM b.id"
        )
        == []
    )
    assert (
        db.rows(
            "SELECT b.id FROM bookings b WHERE (b.status = 'CONFIRMED') <> EXISTS"
            " (SELECT 1 FROM payments p WHERE p.booking_id = b.id AND p.status = 'SUCCEEDED')"
        )
        == []
    )


def test_a_sell_out_under_random_concurrent_traffic_sells_every_seat_at_most_once(
    api: Any, accounts: Any, catalog: Any, db: Any, in_processes: Any
) -> None:
    event = catalog.event(rows=10, seats_per_row=20, max_tickets_per_user=100)
    buyers = [accounts.create() for _ in range(16)]

    tallies = in_processes(
        _shop_until_sold_out, [(api, buyer.token, event.id, event.seat_ids, seed) for seed, buyer in enumerate(buyers)]
    )

    assert sum(t["confirmed"] for t in tallies) == db.value(
        "SELECT count(*) FROM bookings WHERE confirmed_at IS NOT NULL"
    )
    assert sum(t["holds"] for t in tallies) > 16
    _assert_booking_invariants(db)


def _confirm(api: Any, token: str, booking: dict[str, Any], delay: float) -> tuple[int, str | None]:
    time.sleep(delay)
    body = {"paymentToken": "tok_visa", "amount": booking["total"], "version": booking["version"]}
    response = api.post(f"/api/bookings/{booking['id']}/confirm", json=body, token=token)
    return response.status, response.error_code


def _sweep(rounds: int) -> int:
    from ticketing.bookings.expiry import sweep

    expired = 0
    for _ in range(rounds):
        expired += sweep(time_budget_seconds=10).expired_bookings
        time.sleep(0.05)
    return expired


def _confirm_or_sweep(*args: Any) -> Any:
    return _confirm(*args) if len(args) == 4 else _sweep(*args)


def test_confirm_racing_the_expiry_job_has_exactly_one_winner_per_booking(
    api: Any, accounts: Any, catalog: Any, db: Any, in_processes: Any
) -> None:
    from ticketing.bookings.expiry import sweep

    event = catalog.event(rows=2, seats_per_row=10)
    buyers = [accounts.create() for _ in range(10)]
    bookings = []
    for buyer, seat_id in zip(buyers, event.seat_ids, strict=False):
        assert (
            api.post(
                "/api/bookings/hold-seats", json={"eventId": event.id, "seatIds": [seat_id]}, token=buyer.token
            ).status
            == 200
        )
        bookings.append(api.post("/api/bookings/create", json={"eventId": event.id}, token=buyer.token).json())
    # Half are past their window already, half run out while the race is on.
    for index, booking in enumerate(bookings):
        offset = "-1 second" if index % 2 else "0.3 seconds"
        db.execute(f"UPDATE bookings SET expires_at = now() + interval '{offset}' WHERE id = :id", id=booking["id"])
    rng = random.Random(7)
    confirms = [
        (api, buyer.token, booking, rng.uniform(0, 0.6)) for buyer, booking in zip(buyers, bookings, strict=True)
    ]

    results = in_processes(_confirm_or_sweep, [*confirms, (8,), (8,)])
    sweep(time_budget_seconds=10)

    statuses = {row["id"]: row["status"] for row in db.rows("SELECT id::text, status FROM bookings")}
    for index, booking in enumerate(bookings):
        status, code = results[index]
        if status == 200:
            assert statuses[booking["id"]] == "CONFIRMED"
        else:
            assert (status, code) in {(409, "BOOKING_EXPIRED"), (409, "VERSION_CONFLICT")}
            assert statuses[booking["id"]] == "EXPIRED"
        if index % 2:
            assert status == 409, "a booking past its window was confirmed"
    assert results[-1] + results[-2] <= len(bookings)
    _assert_booking_invariants(db)


def test_two_expiry_jobs_at_once_expire_each_booking_exactly_once(
    accounts: Any, catalog: Any, db: Any, in_processes: Any
) -> None:
    event = catalog.event(rows=10, seats_per_row=25)
    buyer = accounts.create()
    db.execute(
        "WITH pairs AS MATERIALIZED (SELECT id AS seat_id, gen_random_uuid() AS booking_id FROM event_seats"
        "   WHERE event_id = :event),"
        " new_bookings AS (INSERT INTO bookings (id, user_id, event_id, subtotal, total, currency, expires_at)"
        "   SELECT booking_id, :user, :event, 2500, 2500, 'EUR', now() - interval '1 minute' FROM pairs),"
        " new_items AS (INSERT INTO booking_items (booking_id, booking_status, event_seat_id, price)"
        "   SELECT booking_id, 'PENDING', seat_id, 2500 FROM pairs)"
        " UPDATE event_seats es SET status = 'HELD', held_by = :user, held_until = now() - interval '1 minute',"
        "   booking_id = pairs.booking_id, booking_status = 'PENDING' FROM pairs WHERE es.id = pairs.seat_id",
        event=event.id,
        user=buyer.id,
    )
    assert db.value("SELECT count(*) FROM bookings WHERE status = 'PENDING'") == 250

    expired = in_processes(_sweep, [(1,), (1,)])

    assert sum(expired) == 250
    assert db.rows("SELECT status, version, count(*) AS n FROM bookings GROUP BY 1, 2") == [
        {"status": "EXPIRED", "version": 2, "n": 250}
    ]
    assert db.value("SELECT count(*) FROM notifications WHERE type = 'BOOKING_EXPIRED'") == 250
    assert db.value("SELECT count(*) FROM outbox_events WHERE event_type = 'BookingExpired'") == 250
    assert db.value("SELECT count(*) FROM event_seats WHERE status = 'AVAILABLE'") == 250
