"""Tickets of real confirmed bookings, and a gate that scans them, shared by the ticket tests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest


@dataclass
class Purchase:
    buyer: Any
    booking: dict[str, Any]
    tickets: list[dict[str, Any]]


class BoxOffice:
    """Buys seats through the API (hold, create, confirm), asserting every step, and reads the tickets."""

    def __init__(self, api: Any) -> None:
        self.api = api

    def buy(self, buyer: Any, event: Any, seat_ids: list[str]) -> Purchase:
        held = self.api.post(
            "/api/bookings/hold-seats", json={"eventId": event.id, "seatIds": seat_ids}, token=buyer.token
        )
        assert held.status == 200, held.body
        created = self.api.post(
            "/api/bookings/create", json={"eventId": event.id, "seatIds": seat_ids}, token=buyer.token
        )
        assert created.status == 201, created.body
        pending = created.json()
        confirmed = self.api.post(
            f"/api/bookings/{pending['id']}/confirm",
            json={"paymentToken": "tok_visa", "amount": pending["total"], "version": pending["version"]},
            token=buyer.token,
        )
        assert confirmed.status == 200, confirmed.body
        tickets = self.api.get(f"/api/bookings/{pending['id']}/tickets", token=buyer.token)
        assert tickets.status == 200, tickets.body
        return Purchase(buyer, confirmed.json(), tickets.json()["items"])

    def check_in(self, gate: Any, event_id: str, code: str, scan_id: str | None = None) -> Any:
        body = {"code": code} if scan_id is None else {"code": code, "scanId": scan_id}
        return self.api.post(f"/api/events/{event_id}/check-in", json=body, token=gate.token)

    def batch(self, gate: Any, event_id: str, scans: list[dict[str, Any]]) -> Any:
        return self.api.post(f"/api/events/{event_id}/check-in/batch", json={"scans": scans}, token=gate.token)


@pytest.fixture
def box_office(api: Any) -> BoxOffice:
    return BoxOffice(api)


@pytest.fixture
def box_office_over_http(http_api: Any) -> BoxOffice:
    """The same steps over real HTTP, through the local runner."""
    return BoxOffice(http_api)


@pytest.fixture
def organizer(accounts: Any) -> Any:
    return accounts.create("ORGANIZER")


@pytest.fixture
def event(catalog: Any, organizer: Any) -> Any:
    """A published event on sale, run by `organizer`, starting in a month."""
    return catalog.event(organizer_id=organizer.id)
