"""`make run` demo data: something to try for every feature, and loading it twice changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest


@pytest.fixture(scope="module")
def demo(database_url: str) -> dict[str, Any]:
    """Demo data loaded twice into empty tables, once for this module (the stadium takes a while); the table
    sizes after each load. The tests here read it through `demo_api` and never empty the tables themselves."""
    from devtools.demo_data import load_demo_data
    from tests.conftest import Database
    from ticketing.db import transaction

    Database(database_url).empty_tables()
    sizes = (
        "SELECT (SELECT count(*) FROM users) AS users, (SELECT count(*) FROM venues) AS venues,"
        " (SELECT count(*) FROM sections) AS sections, (SELECT count(*) FROM events) AS events,"
        " (SELECT count(*) FROM event_seats) AS seats, (SELECT count(*) FROM bookings) AS bookings,"
        " (SELECT count(*) FROM payments) AS payments, (SELECT count(*) FROM coupons) AS coupons,"
        " (SELECT count(*) FROM event_seats WHERE status <> 'AVAILABLE') AS taken"
    )
    load_demo_data()
    with transaction() as tx:
        first = tx.rows(sizes)[0]
    load_demo_data()
    with transaction() as tx:
        second = tx.rows(sizes)[0]
    return {"first": first, "second": second}


@pytest.fixture
def demo_api(demo: dict[str, Any], in_process_api: Any) -> Any:
    return in_process_api


def _login(api: Any, email: str) -> str:
    session = api.post("/api/auth/login", json={"email": email, "password": "demo-password"})
    assert session.status == 200, session.body
    return str(session.json()["accessToken"])


def _event(api: Any, title: str) -> dict[str, Any]:
    listed = api.get("/api/events", query={"q": title}).json()["items"]
    assert [item["title"] for item in listed] == [title]
    return dict(api.get(f"/api/events/{listed[0]['id']}").json())


def test_loading_twice_changes_nothing(demo: dict[str, Any]) -> None:
    assert demo["second"] == demo["first"]
    assert demo["first"]["users"] == 3


def test_demo_night_is_on_sale_with_an_almost_sold_out_section(demo_api: Any) -> None:
    event = _event(demo_api, "Demo Night")

    assert event["status"] == "PUBLISHED"
    assert event["venue"]["name"] == "Demo Arena"
    sections = {section["name"]: section for section in event["sections"]}
    assert list(sections) == ["Floor", "Lower Tier", "Balcony", "Boxes"]
    assert (sections["Boxes"]["available"], sections["Boxes"]["booked"]) == (2, 10)
    assert sum(sections["Floor"][state] for state in ("available", "held", "booked")) == 20 * 30


def test_a_coupon_applies_to_demo_night(demo_api: Any) -> None:
    event = _event(demo_api, "Demo Night")
    token = _login(demo_api, "customer@example.com")
    floor = demo_api.get(f"/api/events/{event['id']}/seats", query={"sectionId": event["sections"][0]["id"]}).json()
    seat_id = floor["sections"][0]["rows"][0]["seats"][0]["id"]
    held = demo_api.post("/api/bookings/hold-seats", json={"eventId": event["id"], "seatIds": [seat_id]}, token=token)
    assert held.status == 200, held.body

    booking = demo_api.post("/api/bookings/create", json={"eventId": event["id"], "couponCode": "DEMO10"}, token=token)

    assert booking.status == 201, booking.body
    assert (booking.json()["subtotal"], booking.json()["discount"]) == (6900, 690)


def test_the_customer_can_review_the_past_event(demo_api: Any) -> None:
    event = _event(demo_api, "Demo Classics")
    token = _login(demo_api, "customer@example.com")

    review = demo_api.post(f"/api/events/{event['id']}/reviews", json={"rating": 5, "comment": "Lovely."}, token=token)

    assert datetime.fromisoformat(event["startsAt"]) < datetime.now(UTC)
    assert review.status == 201, review.body
    bookings = demo_api.get("/api/bookings", query={"eventId": event["id"]}, token=token).json()["items"]
    assert [booking["status"] for booking in bookings] == ["CONFIRMED"]


def test_a_stadium_of_100000_seats_is_on_sale_in_compact_form(demo_api: Any) -> None:
    event = _event(demo_api, "Demo Cup Final")

    status = demo_api.get(f"/api/events/{event['id']}/seats/status", headers={"Accept-Encoding": "gzip"})

    assert event["venue"]["name"] == "Demo Stadium"
    assert sum(section["available"] for section in event["sections"]) == 100_000
    assert status.status == 200
    assert len(status.body) < 100_000
