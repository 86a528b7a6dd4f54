"""Offline gates: batches of scans judged at their scannedAt (earliest wins), and the revocation feed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

NOW = datetime.now(UTC).replace(microsecond=0)


def _ago(minutes: int) -> str:
    """A scan time before the test runs (fixed per test session, so expected answers never drift)."""
    return (NOW - timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")


def test_batch_answers_in_request_order_and_the_earliest_scan_of_a_ticket_wins(
    box_office: Any, accounts: Any, organizer: Any, event: Any, db: Any
) -> None:
    first, second = box_office.buy(accounts.create(), event, event.seat_ids[:2]).tickets
    scans = [
        {"code": first["code"], "scanId": "g1-7", "scannedAt": _ago(20)},
        {"code": first["code"], "scanId": "g2-3", "scannedAt": _ago(30)},
        {"code": "forged.code.here", "scanId": "g1-8", "scannedAt": _ago(19)},
        {"code": second["code"], "scanId": "g1-9", "scannedAt": _ago(10)},
        {"code": first["code"], "scanId": "g3-1", "scannedAt": _ago(5)},
    ]

    answer = box_office.batch(organizer, event.id, scans)

    assert answer.status == 200, answer.body
    results = [(r["scanId"], r["status"], r["code"], r["checkedInAt"]) for r in answer.json()["results"]]
    assert results == [
        ("g1-7", 409, "ALREADY_CHECKED_IN", _ago(30)),
        ("g2-3", 200, None, _ago(30)),
        ("g1-8", 422, "INVALID_TICKET", None),
        ("g1-9", 200, None, _ago(10)),
        ("g3-1", 409, "ALREADY_CHECKED_IN", _ago(30)),
    ]
    assert db.value("SELECT check_in_scan_id FROM tickets WHERE id = :id", id=first["id"]) == "g2-3"


def test_an_offline_scan_earlier_than_the_recorded_check_in_becomes_the_check_in(
    box_office: Any, accounts: Any, organizer: Any, event: Any, db: Any
) -> None:
    [ticket] = box_office.buy(accounts.create(), event, event.seat_ids[:1]).tickets
    assert box_office.check_in(organizer, event.id, ticket["code"], "online-1").status == 200

    answer = box_office.batch(
        organizer, event.id, [{"code": ticket["code"], "scanId": "offline-1", "scannedAt": _ago(15)}]
    )

    assert [(r["status"], r["checkedInAt"]) for r in answer.json()["results"]] == [(200, _ago(15))]
    row = db.rows("SELECT status, check_in_scan_id FROM tickets WHERE id = :id", id=ticket["id"])
    assert row == [{"status": "CHECKED_IN", "check_in_scan_id": "offline-1"}]


def test_an_uploaded_batch_uploaded_again_answers_the_same(
    box_office: Any, accounts: Any, organizer: Any, event: Any
) -> None:
    tickets = box_office.buy(accounts.create(), event, event.seat_ids[:3]).tickets
    scans = [{"code": t["code"], "scanId": f"g1-{i}", "scannedAt": _ago(10 - i)} for i, t in enumerate(tickets)]
    first = box_office.batch(organizer, event.id, scans)
    assert first.status == 200, first.body

    again = box_office.batch(organizer, event.id, scans)

    assert again.json() == first.json()
    assert {r["status"] for r in again.json()["results"]} == {200}


def test_a_batch_holds_1_to_500_scans_with_distinct_scan_ids(
    box_office: Any, accounts: Any, organizer: Any, event: Any, db: Any
) -> None:
    [ticket] = box_office.buy(accounts.create(), event, event.seat_ids[:1]).tickets
    scan = {"code": ticket["code"], "scanId": "g1-1", "scannedAt": _ago(1)}

    for scans in ([], [scan] * 2, [{**scan, "scanId": f"g1-{i}"} for i in range(501)]):
        answer = box_office.batch(organizer, event.id, scans)
        assert (answer.status, answer.error_code) == (422, "VALIDATION_ERROR")
    assert db.value("SELECT status FROM tickets") == "VALID"


def test_the_revocation_feed_lists_void_tickets_since_a_time(
    api: Any, box_office: Any, accounts: Any, organizer: Any, event: Any, db: Any
) -> None:
    old = box_office.buy(accounts.create(), event, event.seat_ids[:1])
    recent = box_office.buy(accounts.create(), event, event.seat_ids[1:2])
    box_office.buy(accounts.create(), event, event.seat_ids[2:3])
    for purchase in (old, recent):
        cancelled = api.post(f"/api/bookings/{purchase.booking['id']}/cancel", json={}, token=purchase.buyer.token)
        assert cancelled.status == 200, cancelled.body
    db.execute("UPDATE tickets SET voided_at = now() - interval '1 hour' WHERE booking_id = :id", id=old.booking["id"])
    path = f"/api/events/{event.id}/check-in/revoked"
    before = datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")

    everything = api.get(path, token=organizer.token)
    since = api.get(path, query={"since": _ago(30)}, token=organizer.token)
    customer = api.get(path, token=old.buyer.token)

    assert everything.status == 200, everything.body
    assert [item["ticketId"] for item in everything.json()["items"]] == [old.tickets[0]["id"], recent.tickets[0]["id"]]
    assert [item["ticketId"] for item in since.json()["items"]] == [recent.tickets[0]["id"]]
    assert since.json()["serverTime"] >= before
    assert (customer.status, customer.error_code) == (403, "FORBIDDEN")
