"""Expiry (docs/booking-lifecycle.md): the expiry job (ExpiryFunction, an EventBridge scheduled Lambda)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from devtools.sam_template import load_template
from devtools.server import invoke, scheduled_event

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"


@pytest.fixture(scope="module")
def expiry_function() -> Any:
    return next(f for f in load_template(TEMPLATE).functions if f.logical_id == "ExpiryFunction")


def _run_job(expiry_function: Any) -> dict[str, Any]:
    result: dict[str, Any] = invoke(expiry_function, scheduled_event(expiry_function), expiry_function.timeout)
    return result


def test_the_job_is_scheduled_every_minute(expiry_function: Any) -> None:
    assert expiry_function.schedule_events == ["rate(1 minute)"]


def test_the_job_releases_expired_holds_and_keeps_live_ones(
    shop: Any, accounts: Any, catalog: Any, db: Any, expiry_function: Any
) -> None:
    event = catalog.event()
    buyer = accounts.create()
    shop.held(buyer, event.id, event.seat_ids[:3])
    db.execute(
        "UPDATE event_seats SET held_until = now() - interval '1 second' WHERE id = ANY(CAST(:ids AS uuid[]))",
        ids=event.seat_ids[:2],
    )

    report = _run_job(expiry_function)

    assert report["releasedHolds"] == 2
    assert report["expiredBookings"] == 0
    rows = db.rows(
        "SELECT id::text AS id, status, held_by FROM event_seats WHERE id = ANY(CAST(:ids AS uuid[]))",
        ids=event.seat_ids[:3],
    )
    states = {row["id"]: (row["status"], row["held_by"]) for row in rows}
    assert states[event.seat_ids[0]] == states[event.seat_ids[1]] == ("AVAILABLE", None)
    assert states[event.seat_ids[2]][0] == "HELD"


def test_the_job_expires_unpaid_bookings_past_their_window(
    shop: Any, accounts: Any, catalog: Any, db: Any, expiry_function: Any
) -> None:
    event = catalog.event()
    buyer = accounts.create()
    coupon_id = db.value(
        "INSERT INTO coupons (code, type, value, created_by) VALUES ('TEN', 'PERCENT', 10, :u) RETURNING id",
        u=event.organizer_id,
    )
    expired = shop.pending_booking(buyer, event, event.seat_ids[:2], couponCode="TEN")
    live = shop.pending_booking(buyer, event, event.seat_ids[2:3])
    confirmed = shop.confirmed_booking(buyer, event, event.seat_ids[3:4])
    db.execute("UPDATE bookings SET expires_at = now() - interval '1 second' WHERE id <> :live", live=live["id"])

    report = _run_job(expiry_function)

    assert report["expiredBookings"] == 1
    statuses = {
        row["id"]: (row["status"], row["version"]) for row in db.rows("SELECT id::text, status, version FROM bookings")
    }
    assert statuses == {expired["id"]: ("EXPIRED", 2), live["id"]: ("PENDING", 1), confirmed["id"]: ("CONFIRMED", 2)}
    assert db.value("SELECT expired_at IS NOT NULL FROM bookings WHERE id = :id", id=expired["id"])
    free = db.value(
        "SELECT count(*) FROM event_seats WHERE id = ANY(CAST(:ids AS uuid[])) AND status = 'AVAILABLE'",
        ids=event.seat_ids[:2],
    )
    assert free == 2
    assert db.value("SELECT redeemed_count FROM coupons WHERE id = :id", id=coupon_id) == 0
    assert (
        db.value("SELECT count(*) FROM notifications WHERE type = 'BOOKING_EXPIRED' AND user_id = :u", u=buyer.id) == 1
    )
    assert db.value("SELECT count(*) FROM outbox_events WHERE event_type = 'BookingExpired'") == 1
    assert shop.hold(accounts.create(), event.id, event.seat_ids[:2]).status == 200


def test_a_confirm_after_the_job_expired_the_booking_is_booking_expired(
    shop: Any, accounts: Any, catalog: Any, db: Any, expiry_function: Any
) -> None:
    event = catalog.event()
    buyer = accounts.create()
    booking = shop.pending_booking(buyer, event, event.seat_ids[:1])
    assert db.execute("UPDATE bookings SET expires_at = now() - interval '1 second'") == 1
    _run_job(expiry_function)
    assert db.value("SELECT status FROM bookings") == "EXPIRED"

    response = shop.confirm(buyer, booking)

    assert response.status == 409
    assert response.error_code == "BOOKING_EXPIRED"
    assert db.value("SELECT status FROM bookings") == "EXPIRED"


def test_the_job_forgets_expired_idempotency_keys(
    shop: Any, accounts: Any, catalog: Any, db: Any, expiry_function: Any
) -> None:
    event = catalog.event()
    buyer = accounts.create()
    shop.held(buyer, event.id, event.seat_ids[:1], headers={"Idempotency-Key": "old"})
    shop.held(buyer, event.id, event.seat_ids[1:2], headers={"Idempotency-Key": "new"})
    db.execute("UPDATE idempotency_keys SET expires_at = now() - interval '1 second' WHERE key = 'old'")

    report = _run_job(expiry_function)

    assert report["deletedIdempotencyKeys"] == 1
    assert [row["key"] for row in db.rows("SELECT key FROM idempotency_keys")] == ["new"]


def test_the_job_works_in_bounded_batches(catalog: Any, accounts: Any, db: Any) -> None:
    from ticketing.bookings.expiry import HOLDS_PER_BATCH, sweep

    event = catalog.event(rows=25, seats_per_row=100)
    holder = accounts.create()
    db.execute(
        "UPDATE event_seats SET status = 'HELD', held_by = :u, held_until = now() - interval '1 second'"
        " WHERE event_id = :e",
        u=holder.id,
        e=event.id,
    )

    report = sweep(time_budget_seconds=30)

    assert report.released_holds == 2500
    assert report.batches >= 2500 // HOLDS_PER_BATCH + 1
    assert report.finished
    assert db.value("SELECT count(*) FROM event_seats WHERE status = 'HELD'") == 0


def test_the_job_stops_when_its_time_budget_is_spent(shop: Any, accounts: Any, catalog: Any, db: Any) -> None:
    from ticketing.bookings.expiry import sweep

    event = catalog.event()
    buyer = accounts.create()
    shop.held(buyer, event.id, event.seat_ids[:1])
    db.execute("UPDATE event_seats SET held_until = now() - interval '1 second' WHERE status = 'HELD'")

    report = sweep(time_budget_seconds=0)

    assert (report.finished, report.batches, report.released_holds) == (False, 0, 0)
    assert db.value("SELECT count(*) FROM event_seats WHERE status = 'HELD'") == 1
