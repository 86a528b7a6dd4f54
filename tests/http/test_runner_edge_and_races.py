"""The local runner in front of the real template: API Gateway's own answers, and a race over real HTTP."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

pytestmark = pytest.mark.http
BUYERS = 24


def test_an_unknown_path_is_404_with_the_error_envelope(http_api: Any, db: Any) -> None:
    response = http_api.get("/api/no-such-thing")

    assert (response.status, response.error_code) == (404, "NOT_FOUND")
    assert set(response.json()["error"]) == {"code", "message", "details"}


@pytest.mark.parametrize("method", ["DELETE", "TRACE", "PROPFIND"])
def test_a_method_the_path_lacks_is_405_with_allow(http_api: Any, db: Any, method: str) -> None:
    response = http_api.request(method, "/api/health")

    assert (response.status, response.error_code) == (405, "METHOD_NOT_ALLOWED")
    assert response.header("Allow") == "GET, OPTIONS"


def test_a_body_over_10_mib_is_413_with_the_error_envelope(http_api: Any, db: Any) -> None:
    response = http_api.post("/api/auth/login", body=b"x" * (10 * 1024 * 1024 + 1))

    assert (response.status, response.error_code) == (413, "PAYLOAD_TOO_LARGE")


def test_buyers_racing_over_http_for_the_same_seats_have_exactly_one_winner(
    http_api: Any, accounts: Any, catalog: Any, db: Any
) -> None:
    event = catalog.event()
    seats = event.seat_ids[:3]
    buyers = [accounts.create() for _ in range(BUYERS)]
    start = threading.Barrier(BUYERS)

    def hold(token: str) -> tuple[int, str | None]:
        start.wait()
        response = http_api.post("/api/bookings/hold-seats", json={"eventId": event.id, "seatIds": seats}, token=token)
        return response.status, response.error_code

    with ThreadPoolExecutor(max_workers=BUYERS) as executor:
        results = list(executor.map(hold, [buyer.token for buyer in buyers]))

    winners = [index for index, (status, _) in enumerate(results) if status == 200]
    assert len(winners) == 1, results
    assert {code for status, code in results if status != 200} <= {"SEATS_LOCKED", "SEATS_UNAVAILABLE"}
    holders = db.rows(
        "SELECT DISTINCT held_by::text AS holder FROM event_seats WHERE id = ANY(CAST(:ids AS uuid[]))", ids=seats
    )
    assert holders == [{"holder": buyers[winners[0]].id}]
