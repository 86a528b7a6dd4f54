"""The whole buying flow over real HTTP through the local runner, expiry by the scheduled function included."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from devtools.sam_template import load_template
from devtools.server import Scheduler

pytestmark = pytest.mark.http
TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"


def test_a_customer_holds_books_and_pays_for_seats(http_api: Any, accounts: Any, catalog: Any, db: Any) -> None:
    event = catalog.event(rows=2, seats_per_row=5, price=4000)
    buyer = accounts.create()
    seats = event.seat_ids[:2]

    seat_map = http_api.get(f"/api/events/{event.id}/seats", headers={"Accept-Encoding": "gzip"})
    assert seat_map.status == 200
    assert seat_map.json()["counts"] == {"available": 10, "held": 0, "booked": 0}

    held = http_api.post("/api/bookings/hold-seats", json={"eventId": event.id, "seatIds": seats}, token=buyer.token)
    assert held.status == 200, held.body
    assert held.json()["holdTtlSeconds"] == 600

    created = http_api.post("/api/bookings/create", json={"eventId": event.id}, token=buyer.token)
    assert created.status == 201, created.body
    booking = created.json()
    assert (booking["status"], booking["total"], booking["currency"]) == ("PENDING", 8000, "EUR")

    confirmed = http_api.post(
        f"/api/bookings/{booking['id']}/confirm",
        json={"paymentToken": "tok_visa", "amount": 8000},
        headers={"If-Match": f'"{booking["version"]}"'},
        token=buyer.token,
    )
    assert confirmed.status == 200, confirmed.body
    assert confirmed.json()["payment"]["status"] == "SUCCEEDED"

    fetched = http_api.get(f"/api/bookings/{booking['id']}", token=buyer.token)
    assert fetched.header("ETag") == f'"{booking["version"] + 1}"'
    assert http_api.get(f"/api/events/{event.id}/seats").json()["counts"] == {"available": 8, "held": 0, "booked": 2}
    assert (
        db.value("SELECT count(*) FROM event_seats WHERE status = 'BOOKED' AND booking_id = :id", id=booking["id"]) == 2
    )


def test_a_rival_buyer_gets_a_clear_409_over_http(http_api: Any, accounts: Any, catalog: Any) -> None:
    event = catalog.event()
    first, second = accounts.create(), accounts.create()
    held = http_api.post(
        "/api/bookings/hold-seats", json={"eventId": event.id, "seatIds": event.seat_ids[:1]}, token=first.token
    )
    assert held.status == 200, held.body

    response = http_api.post(
        "/api/bookings/hold-seats", json={"eventId": event.id, "seatIds": event.seat_ids[:2]}, token=second.token
    )

    assert response.status == 409
    assert response.error_code == "SEATS_UNAVAILABLE"
    assert response.json()["error"]["details"]["seatIds"] == [event.seat_ids[0]]


def test_the_scheduled_expiry_function_expires_an_unpaid_booking(
    http_api: Any, accounts: Any, catalog: Any, db: Any
) -> None:
    event = catalog.event()
    buyer = accounts.create()
    held = http_api.post(
        "/api/bookings/hold-seats", json={"eventId": event.id, "seatIds": event.seat_ids[:1]}, token=buyer.token
    )
    assert held.status == 200, held.body
    created = http_api.post("/api/bookings/create", json={"eventId": event.id}, token=buyer.token)
    assert created.status == 201, created.body
    booking = created.json()
    db.execute("UPDATE bookings SET expires_at = now() - interval '1 second' WHERE id = :id", id=booking["id"])
    scheduler = Scheduler(load_template(TEMPLATE), interval_seconds=0.2, result_log=lambda line: None)

    scheduler.start()
    deadline = time.monotonic() + 20
    while db.value("SELECT status FROM bookings WHERE id = :id", id=booking["id"]) != "EXPIRED":
        assert time.monotonic() < deadline, "the scheduled expiry function never expired the booking"
        time.sleep(0.1)
    scheduler.stop()

    assert http_api.get(f"/api/bookings/{booking['id']}", token=buyer.token).json()["status"] == "EXPIRED"
    assert db.value("SELECT status FROM event_seats WHERE id = :id", id=event.seat_ids[0]) == "AVAILABLE"
