"""Public reads are shareable for a second or two; anything asked with a token is never stored (docs/caching.md)."""

from __future__ import annotations

from typing import Any

SEAT_STATUS_POLICY = "public, max-age=1, stale-while-revalidate=1"


def test_an_anonymous_seat_status_may_be_shared_for_a_second(api: Any, catalog: Any) -> None:
    event = catalog.event()

    response = api.get(f"/api/events/{event.id}/seats/status")

    assert response.status == 200
    assert response.header("Cache-Control") == SEAT_STATUS_POLICY
    assert response.header("Vary") == "Accept-Encoding"
    assert response.json()["eventId"] == event.id


def test_an_anonymous_revalidation_keeps_the_shared_policy(api: Any, catalog: Any) -> None:
    event = catalog.event()
    first = api.get(f"/api/events/{event.id}/seats/status")
    assert first.status == 200

    response = api.get(f"/api/events/{event.id}/seats/status", headers={"If-None-Match": first.header("ETag")})

    assert response.status == 304
    assert response.header("Cache-Control") == SEAT_STATUS_POLICY


def test_a_seat_status_asked_with_a_token_is_private_and_never_stored(api: Any, accounts: Any, catalog: Any) -> None:
    event = catalog.event()

    response = api.get(f"/api/events/{event.id}/seats/status", token=accounts.create().token)

    assert response.status == 200
    assert response.header("Cache-Control") == "private, no-store"


def test_the_event_list_and_an_event_are_shared_briefly_when_anonymous(api: Any, catalog: Any) -> None:
    event = catalog.event()

    listing = api.get("/api/events")
    single = api.get(f"/api/events/{event.id}")

    assert (listing.status, single.status) == (200, 200)
    assert listing.header("Cache-Control") == "public, max-age=10, stale-while-revalidate=30"
    assert single.header("Cache-Control") == "public, max-age=2, stale-while-revalidate=5"
    assert single.json()["id"] == event.id


def test_a_missing_event_is_not_shared(api: Any) -> None:
    response = api.get("/api/events/0d6f4c2e-8a4b-4a5e-9f53-3c1f0b7d2a11")

    assert response.status == 404
    assert response.header("Cache-Control") == "no-store"


def test_a_write_with_a_token_is_never_stored(api: Any, accounts: Any, catalog: Any) -> None:
    event = catalog.event()
    buyer = accounts.create()

    response = api.post(
        "/api/bookings/hold-seats", json={"eventId": event.id, "seatIds": event.seat_ids[:1]}, token=buyer.token
    )

    assert response.status == 200
    assert response.header("Cache-Control") == "private, no-store"
    assert response.json()["seatIds"] == event.seat_ids[:1]


def test_a_route_without_a_policy_keeps_its_own_when_anonymous(api: Any, catalog: Any) -> None:
    event = catalog.event()

    response = api.get(f"/api/events/{event.id}/seats")

    assert response.status == 200
    assert response.header("Cache-Control") == "no-cache"
