"""`make run` demo data: Demo Arena and one published event on sale, loaded twice without changes."""

from __future__ import annotations

from typing import Any


def test_demo_data_puts_one_event_on_sale_and_loading_twice_changes_nothing(api: Any, db: Any) -> None:
    from devtools.demo_data import load_demo_data

    load_demo_data()
    counts = "SELECT (SELECT count(*) FROM venues), (SELECT count(*) FROM sections), (SELECT count(*) FROM events),"
    counts += " (SELECT count(*) FROM event_seats)"
    first = db.rows(counts)
    load_demo_data()

    assert db.rows(counts) == first
    listed = api.get("/api/events", query={"q": "Demo Night"}).json()["items"]
    assert len(listed) == 1
    event = api.get(f"/api/events/{listed[0]['id']}").json()
    assert event["status"] == "PUBLISHED"
    assert event["venue"]["name"] == "Demo Arena"
    assert [section["name"] for section in event["sections"]] == ["Floor", "Lower Tier", "Balcony"]
    assert sum(section["available"] for section in event["sections"]) == 20 * 30 + 15 * 40 + 8 * 25
    organizer = db.value("SELECT u.email FROM events e JOIN users u ON u.id = e.organizer_id")
    assert organizer == "organizer@example.com"
