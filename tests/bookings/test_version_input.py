"""Versions from the body and If-Match: only numbers that can name a version are compared; nothing else runs."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.mark.parametrize("if_match", ['"\u0661"', '"99999999999999999999999"', '"2147483648"', '"1.0"', '"-1"'])
def test_an_if_match_that_cannot_name_a_version_is_412_and_changes_nothing(
    shop: Any, accounts: Any, catalog: Any, db: Any, if_match: str
) -> None:
    buyer = accounts.create()
    event = catalog.event()
    booking = shop.pending_booking(buyer, event, event.seat_ids[:1])

    response = shop.confirm(buyer, booking, version=None, headers={"If-Match": if_match})

    assert response.status == 412
    assert response.error_code == "PRECONDITION_FAILED"
    assert db.value("SELECT status FROM bookings WHERE id = :id", id=booking["id"]) == "PENDING"
    assert db.value("SELECT count(*) FROM payments") == 0


@pytest.mark.parametrize("version", [2**64, 2**31, "1", 1.5, True, 0])
def test_a_body_version_out_of_range_or_of_another_type_is_422(
    shop: Any, accounts: Any, catalog: Any, db: Any, version: Any
) -> None:
    buyer = accounts.create()
    event = catalog.event()
    booking = shop.pending_booking(buyer, event, event.seat_ids[:1])

    response = shop.confirm(buyer, booking, version=version)

    assert response.status == 422
    assert response.json()["error"]["details"]["fields"][0]["field"] == "version"
    assert db.value("SELECT status FROM bookings WHERE id = :id", id=booking["id"]) == "PENDING"


def test_an_amount_sent_as_a_string_is_422(shop: Any, accounts: Any, catalog: Any, db: Any) -> None:
    buyer = accounts.create()
    event = catalog.event()
    booking = shop.pending_booking(buyer, event, event.seat_ids[:1])

    response = shop.confirm(buyer, booking, amount=str(booking["total"]))

    assert response.status == 422
    assert response.json()["error"]["details"]["fields"][0]["field"] == "amount"
    assert db.value("SELECT count(*) FROM payments") == 0


@pytest.mark.parametrize("key", ["with space", "caf\u00e9", "x" * 256])
def test_an_idempotency_key_outside_visible_ascii_is_422_and_holds_nothing(
    shop: Any, accounts: Any, catalog: Any, db: Any, key: str
) -> None:
    buyer = accounts.create()
    event = catalog.event()

    response = shop.hold(buyer, event.id, event.seat_ids[:1], headers={"Idempotency-Key": key})

    assert response.status == 422
    assert response.json()["error"]["details"]["fields"][0]["field"] == "idempotency-key"
    assert db.value("SELECT count(*) FROM event_seats WHERE status = 'HELD'") == 0
