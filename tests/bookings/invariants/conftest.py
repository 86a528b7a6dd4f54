"""A consistent database to break on purpose: every state the invariant check reads, reached through the API."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from ticketing.db import Session
from ticketing.ops.invariants import Report, check_in

COUPON = "CHAOS10"


@dataclass(frozen=True)
class World:
    """Ids of the rows the corruptions aim at, by name (the SQL parameters of a corruption)."""

    ids: dict[str, str]


class _Undo(Exception):
    """Rolls the corrupting transaction back once its report is taken."""


@pytest.fixture
def corrupted(db: Any, world: World) -> Callable[[list[str]], Report]:
    """`corrupted(statements)`: the check's report on the world with those statements applied."""
    return lambda statements: _report_after(db, world, statements)


def _report_after(db: Any, world: World, statements: list[str]) -> Report:
    """Runs the corrupting statements as the tables' owner with triggers and foreign keys off (replica mode,
    which the application role may not set; constraints a statement must get past are dropped by the
    statements themselves), checks inside the same transaction, then rolls it all back, so no test leaves
    the schema or the data broken for the next."""
    report: Report | None = None
    try:
        with db.as_owner() as tx:
            tx.execute("SET LOCAL session_replication_role = replica")
            for statement in statements:
                _run(tx, statement, world)
            report = check_in(tx)
            raise _Undo
    except _Undo:
        pass
    if report is None:
        raise RuntimeError("the corrupting transaction produced no report")
    return report


def _run(tx: Session, statement: str, world: World) -> None:
    tx.execute(statement, **{name: value for name, value in world.ids.items() if f":{name}" in statement})


@pytest.fixture
def world(db: Any, accounts: Any, catalog: Any, shop: Any) -> World:
    """Given: a confirmed booking (paid, ticketed), a pending one with a coupon, a bare hold, and a cancelled
    booking that used the coupon and was refunded at the provider."""
    event = catalog.event(rows=1, seats_per_row=8)
    confirmed_buyer, pending_buyer, holder, cancelled_buyer = (accounts.create() for _ in range(4))
    db.execute(
        "INSERT INTO coupons (code, type, value, max_redemptions, per_user_limit, created_by)"
        " VALUES (:code, 'PERCENT', 10, 5, 1, :organizer)",
        code=COUPON,
        organizer=event.organizer_id,
    )
    confirmed = shop.confirmed_booking(confirmed_buyer, event, event.seat_ids[0:2])
    pending = shop.pending_booking(pending_buyer, event, event.seat_ids[2:3], couponCode=COUPON)
    shop.held(holder, event.id, event.seat_ids[4:5])
    cancelled = shop.confirm(
        cancelled_buyer, shop.pending_booking(cancelled_buyer, event, event.seat_ids[5:6], couponCode=COUPON)
    )
    assert cancelled.status == 200, cancelled.body
    cancel = shop.cancel(cancelled_buyer, cancelled.json()["id"])
    assert cancel.status == 200, cancel.body
    payments = db.rows("SELECT booking_id, id, status, reference FROM payments ORDER BY created_at")
    assert [(str(p["booking_id"]), p["status"]) for p in payments] == [
        (confirmed["id"], "SUCCEEDED"),
        (cancelled.json()["id"], "REFUNDED"),
    ], payments
    assert pending["couponCode"] == COUPON, pending
    return World(
        {
            "event": event.id,
            "confirmed": confirmed["id"],
            "confirmed_buyer": confirmed_buyer.id,
            "confirmed_payment": str(payments[0]["id"]),
            "confirmed_charge": payments[0]["reference"],
            "pending": pending["id"],
            "pending_buyer": pending_buyer.id,
            "cancelled": cancelled.json()["id"],
            "cancelled_payment": str(payments[1]["id"]),
            "cancelled_charge": payments[1]["reference"],
            "seat0": event.seat_ids[0],
            "seat2": event.seat_ids[2],
            "held_seat": event.seat_ids[4],
            "seat5": event.seat_ids[5],
        }
    )
