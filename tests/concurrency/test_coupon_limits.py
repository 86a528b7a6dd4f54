"""A coupon's limits hold when many bookings redeem it at the same moment, each in its own process (all of
them seen waiting for the coupon's row at once before any proceeds)."""

from __future__ import annotations

import multiprocessing
from typing import Any
from uuid import UUID

import pytest

from tests.concurrency.two_sessions import connect, wait_until_sessions_wait
from ticketing.coupons.service import apply_coupon, record_redemption
from ticketing.db import transaction
from ticketing.db.connection import close_connection
from ticketing.errors import DomainError

pytestmark = [
    pytest.mark.concurrency,
    # The parent has idle helper threads; a forked child only uses threads it starts itself.
    pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning"),
]

CONTENDERS = 12


def _redeem(results: Any, user_id: str, event_id: str, booking_id: str) -> None:
    """One booking transaction in a forked process: redeem the coupon; report the outcome code."""
    try:
        with transaction() as tx:
            applied = apply_coupon(
                tx, code="RUSH", user_id=UUID(user_id), event_id=UUID(event_id), subtotal=5000, currency="EUR"
            )
            record_redemption(tx, applied, booking_id=UUID(booking_id), user_id=UUID(user_id))
        results.put("REDEEMED")
    except DomainError as error:
        results.put(error.code)
    except Exception as error:
        results.put(f"UNEXPECTED {error!r}")
    finally:
        close_connection()


def _race(db: Any, bookings: list[tuple[str, str]], event_id: str) -> list[str]:
    """Runs one process per (user, booking) against the same coupon; answers their outcomes.

    This session holds the coupon's row lock until every contender is seen waiting for it in pg_stat_activity,
    so all of them are provably in flight at once when the lock is let go.
    """
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    holder = connect()
    holder.run("BEGIN")
    holder.run("SELECT id FROM coupons WHERE code = 'RUSH' FOR UPDATE")
    # Each process must open its own connection, not inherit this one's socket.
    close_connection()
    processes = [
        context.Process(target=_redeem, args=(results, user_id, event_id, booking_id))
        for user_id, booking_id in bookings
    ]
    for process in processes:
        process.start()
    try:
        wait_until_sessions_wait(db, len(bookings), "FROM coupons WHERE code")
    finally:
        holder.run("ROLLBACK")
        holder.close()
    outcomes = [results.get(timeout=60) for _ in processes]
    for process in processes:
        process.join(timeout=30)
    return sorted(outcomes)


def _coupon(db: Any, created_by: str, *, max_redemptions: int | None, per_user_limit: int | None) -> str:
    return str(
        db.value(
            "INSERT INTO coupons (code, type, value, max_redemptions, per_user_limit, created_by)"
            " VALUES ('RUSH', 'PERCENT', 10, :max_redemptions, :per_user_limit, :created_by) RETURNING id",
            max_redemptions=max_redemptions,
            per_user_limit=per_user_limit,
            created_by=created_by,
        )
    )


def _live_redemptions(db: Any, coupon_id: str) -> int:
    return int(
        db.value("SELECT count(*) FROM coupon_redemptions WHERE coupon_id = :id AND released_at IS NULL", id=coupon_id)
    )


def test_a_coupon_limited_to_n_redemptions_is_never_redeemed_more_than_n_times(
    db: Any, accounts: Any, catalog: Any
) -> None:
    event = catalog.event()
    coupon_id = _coupon(db, accounts.create("ADMIN").id, max_redemptions=5, per_user_limit=None)
    customers = [accounts.create("USER").id for _ in range(CONTENDERS)]
    bookings = [(user_id, catalog.booking(event, user_id, status="PENDING")) for user_id in customers]

    outcomes = _race(db, bookings, event.id)

    assert outcomes == ["COUPON_EXHAUSTED"] * (CONTENDERS - 5) + ["REDEEMED"] * 5
    assert db.value("SELECT redeemed_count FROM coupons WHERE id = :id", id=coupon_id) == 5
    assert _live_redemptions(db, coupon_id) == 5


def test_one_customer_racing_their_own_bookings_gets_only_the_per_user_limit(
    db: Any, accounts: Any, catalog: Any
) -> None:
    event = catalog.event()
    coupon_id = _coupon(db, accounts.create("ADMIN").id, max_redemptions=None, per_user_limit=2)
    customer = accounts.create("USER").id
    bookings = [(customer, catalog.booking(event, customer, status="PENDING")) for _ in range(CONTENDERS)]

    outcomes = _race(db, bookings, event.id)

    assert outcomes == ["COUPON_LIMIT_REACHED"] * (CONTENDERS - 2) + ["REDEEMED"] * 2
    assert db.value("SELECT redeemed_count FROM coupons WHERE id = :id", id=coupon_id) == 2
    assert _live_redemptions(db, coupon_id) == 2
