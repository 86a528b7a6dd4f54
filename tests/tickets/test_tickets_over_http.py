"""A ticket's way from purchase to the gate over real HTTP, through the local runner and template.yaml."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.http


def test_a_bought_ticket_shows_as_a_qr_code_and_gets_its_holder_in_once(
    box_office_over_http: Any, accounts: Any, organizer: Any, event: Any
) -> None:
    box_office, http_api = box_office_over_http, box_office_over_http.api
    purchase = box_office.buy(accounts.create(), event, event.seat_ids[:1])
    [ticket] = purchase.tickets

    qr = http_api.get(f"/api/tickets/{ticket['id']}/qr.svg", token=purchase.buyer.token)
    first = box_office.check_in(organizer, event.id, ticket["code"], "gate-1-0001")
    second = box_office.check_in(organizer, event.id, ticket["code"], "gate-2-0001")

    assert qr.status == 200
    assert qr.header("Content-Type") == "image/svg+xml"
    assert qr.body.startswith(b"<?xml")
    assert b"<svg" in qr.body
    assert first.status == 200, first.body
    assert (second.status, second.error_code) == (409, "ALREADY_CHECKED_IN")
