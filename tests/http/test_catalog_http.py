"""The catalog over real HTTP through the local runner: build a venue, sell an event, fetch its seat map."""

from __future__ import annotations

import gzip
import json
from typing import Any

import pytest

pytestmark = pytest.mark.http


def test_an_admin_and_an_organizer_put_an_event_on_sale_and_a_customer_browses_it(http_api: Any, accounts: Any) -> None:
    admin = accounts.create("ADMIN")
    organizer = accounts.create("ORGANIZER")
    venue = http_api.post(
        "/api/venues",
        json={
            "name": "Olympia",
            "address": "28 Bd des Capucines",
            "city": "Paris",
            "country": "FR",
            "timezone": "Europe/Paris",
        },
        token=admin.token,
    )
    assert venue.status == 201
    venue_id = venue.json()["id"]
    section = http_api.post(
        f"/api/venues/{venue_id}/sections",
        json={"name": "Orchestre", "rows": 30, "seatsPerRow": 40, "defaultPrice": 6500},
        token=admin.token,
    )
    assert section.status == 201
    event = http_api.post(
        "/api/events",
        json={
            "venueId": venue_id,
            "title": "Chanson",
            "category": "CONCERT",
            "startsAt": "2099-03-01T20:00:00Z",
            "endsAt": "2099-03-01T22:00:00Z",
            "currency": "EUR",
            "prices": [],
        },
        token=organizer.token,
    )
    assert event.status == 201
    event_id = event.json()["id"]
    assert http_api.get(f"/api/events/{event_id}").status == 404

    published = http_api.post(f"/api/events/{event_id}/publish", token=organizer.token)
    listed = http_api.get("/api/events", query={"city": "paris"})
    detail = http_api.get(f"/api/events/{event_id}")

    assert published.status == 200
    assert [item["id"] for item in listed.json()["items"]] == [event_id]
    assert detail.json()["sections"][0]["available"] == 1200
    assert detail.header("X-Content-Type-Options") == "nosniff"


def test_a_gzipped_seat_map_arrives_as_gzip_bytes_over_http(http_api: Any, catalog: Any) -> None:
    event = catalog.event(rows=20, seats_per_row=30)
    plain = http_api.get(f"/api/events/{event.id}/seats")

    response = http_api.get(f"/api/events/{event.id}/seats", headers={"Accept-Encoding": "gzip"})

    assert response.status == 200
    assert response.header("Content-Encoding") == "gzip"
    assert response.header("Content-Type") == "application/json"
    assert response.body[:2] == b"\x1f\x8b"
    assert json.loads(gzip.decompress(response.body)) == plain.json()
    assert plain.json()["counts"]["available"] == 600
    # Other bytes, another representation: its own strong ETag.
    assert response.header("ETag") == (plain.header("ETag") or "").removesuffix('"') + '-gzip"'


def test_a_revalidated_seat_map_is_a_304_over_http(http_api: Any, catalog: Any) -> None:
    event = catalog.event()
    etag = http_api.get(f"/api/events/{event.id}/seats").header("ETag")

    response = http_api.get(f"/api/events/{event.id}/seats", headers={"If-None-Match": etag})

    assert response.status == 304
    assert response.body == b""
    assert response.header("ETag") == etag
