"""Coupon redemption inside a booking's transaction: apply_coupon, record_redemption, release_for_booking."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest

from ticketing.coupons.service import AppliedCoupon, apply_coupon, record_redemption, release_for_booking
from ticketing.db import transaction
from ticketing.errors import DomainError


def _coupon(db: Any, created_by: str, *, code: str = "SAVE10", **columns: Any) -> str:
    values = {"type": "PERCENT", "value": 10, "currency": None, "event_id": None, **columns}
    values.setdefault("max_redemptions", None)
    values.setdefault("per_user_limit", None)
    values.setdefault("min_subtotal", 0)
    values.setdefault("valid_from", None)
    values.setdefault("valid_until", None)
    return str(
        db.value(
            "INSERT INTO coupons (code, type, value, currency, event_id, max_redemptions, per_user_limit,"
            " min_subtotal, valid_from, valid_until, created_by)"
            " VALUES (:code, :type, :value, :currency, :event_id, :max_redemptions, :per_user_limit,"
            " :min_subtotal, CAST(:valid_from AS timestamptz), CAST(:valid_until AS timestamptz), :created_by)"
            " RETURNING id",
            code=code,
            created_by=created_by,
            **values,
        )
    )


def _redeem(
    code: str, user_id: str, event_id: str, booking_id: str, *, subtotal: int = 5000, currency: str = "EUR"
) -> AppliedCoupon:
    with transaction() as tx:
        applied = apply_coupon(
            tx, code=code, user_id=UUID(user_id), event_id=UUID(event_id), subtotal=subtotal, currency=currency
        )
        record_redemption(tx, applied, booking_id=UUID(booking_id), user_id=UUID(user_id))
    return applied


def _refused(code: str, user_id: str, event_id: str, booking_id: str, **kwargs: Any) -> DomainError:
    with pytest.raises(DomainError) as refused:
        _redeem(code, user_id, event_id, booking_id, **kwargs)
    return refused.value


def _redeemed_count(db: Any, coupon_id: str) -> int:
    return int(db.value("SELECT redeemed_count FROM coupons WHERE id = :id", id=coupon_id))


@pytest.fixture
def setting(accounts: Any, catalog: Any) -> Any:
    """A published event, an admin who makes coupons, a customer with a PENDING booking for the event."""

    class Setting:
        admin = accounts.create("ADMIN")
        customer = accounts.create("USER")
        event = catalog.event()
        booking_id = catalog.booking(event, customer.id, status="PENDING")

    return Setting


def test_a_percent_coupon_is_counted_and_recorded_with_the_booking(db: Any, setting: Any) -> None:
    coupon_id = _coupon(db, setting.admin.id, value=15)

    applied = _redeem("SAVE10", setting.customer.id, setting.event.id, setting.booking_id, subtotal=1999)

    assert applied == AppliedCoupon(coupon_id=UUID(coupon_id), code="SAVE10", discount=299)
    assert _redeemed_count(db, coupon_id) == 1
    redemptions = db.rows("SELECT coupon_id, booking_id, user_id, released_at FROM coupon_redemptions")
    assert redemptions == [
        {
            "coupon_id": UUID(coupon_id),
            "booking_id": UUID(setting.booking_id),
            "user_id": UUID(setting.customer.id),
            "released_at": None,
        }
    ]


def test_codes_match_whatever_case_and_surrounding_spaces_the_customer_types(db: Any, setting: Any) -> None:
    coupon_id = _coupon(db, setting.admin.id)

    applied = _redeem("  save10 ", setting.customer.id, setting.event.id, setting.booking_id)

    assert applied.code == "SAVE10"
    assert _redeemed_count(db, coupon_id) == 1


def test_a_fixed_coupon_never_takes_more_than_the_subtotal(db: Any, setting: Any) -> None:
    _coupon(db, setting.admin.id, type="FIXED", value=9000, currency="EUR")

    applied = _redeem("SAVE10", setting.customer.id, setting.event.id, setting.booking_id, subtotal=2500)

    assert applied.discount == 2500


def test_an_unknown_code_is_refused_as_invalid(db: Any, setting: Any) -> None:
    error = _refused("NOSUCH", setting.customer.id, setting.event.id, setting.booking_id)

    assert (error.status, error.code) == (422, "COUPON_INVALID")
    assert error.details["fields"][0]["field"] == "couponCode"
    assert db.value("SELECT count(*) FROM coupon_redemptions") == 0


def test_a_coupon_of_another_event_is_refused_like_an_unknown_code(db: Any, setting: Any, catalog: Any) -> None:
    other_event = catalog.event()
    coupon_id = _coupon(db, setting.admin.id, event_id=other_event.id)

    error = _refused("SAVE10", setting.customer.id, setting.event.id, setting.booking_id)

    assert (error.status, error.code) == (422, "COUPON_INVALID")
    assert _redeemed_count(db, coupon_id) == 0


def test_a_coupon_of_this_event_applies(db: Any, setting: Any) -> None:
    coupon_id = _coupon(db, setting.admin.id, event_id=setting.event.id)

    _redeem("SAVE10", setting.customer.id, setting.event.id, setting.booking_id)

    assert _redeemed_count(db, coupon_id) == 1


@pytest.mark.parametrize(
    "window",
    [
        {"valid_from": "now() + interval '1 hour'"},
        {"valid_until": "now() - interval '1 second'"},
    ],
    ids=["not-yet-valid", "expired"],
)
def test_a_coupon_outside_its_validity_window_is_refused(db: Any, setting: Any, window: dict[str, str]) -> None:
    coupon_id = _coupon(db, setting.admin.id)
    for column, moment in window.items():
        db.execute(f"UPDATE coupons SET {column} = {moment} WHERE id = :id", id=coupon_id)

    error = _refused("SAVE10", setting.customer.id, setting.event.id, setting.booking_id)

    assert (error.status, error.code) == (422, "COUPON_NOT_ACTIVE")
    assert _redeemed_count(db, coupon_id) == 0


def test_a_coupon_inside_its_validity_window_applies(db: Any, setting: Any) -> None:
    coupon_id = _coupon(db, setting.admin.id)
    db.execute(
        "UPDATE coupons SET valid_from = now() - interval '1 hour', valid_until = now() + interval '1 hour'"
        " WHERE id = :id",
        id=coupon_id,
    )

    _redeem("SAVE10", setting.customer.id, setting.event.id, setting.booking_id)

    assert _redeemed_count(db, coupon_id) == 1


def test_a_booking_below_the_minimum_subtotal_is_refused(db: Any, setting: Any) -> None:
    coupon_id = _coupon(db, setting.admin.id, min_subtotal=5000, currency="EUR")

    error = _refused("SAVE10", setting.customer.id, setting.event.id, setting.booking_id, subtotal=4999)

    assert (error.status, error.code) == (422, "COUPON_MIN_SUBTOTAL")
    assert error.details["minSubtotal"] == 5000
    assert _redeemed_count(db, coupon_id) == 0


def test_a_booking_exactly_at_the_minimum_subtotal_qualifies(db: Any, setting: Any) -> None:
    coupon_id = _coupon(db, setting.admin.id, min_subtotal=5000, currency="EUR")

    _redeem("SAVE10", setting.customer.id, setting.event.id, setting.booking_id, subtotal=5000)

    assert _redeemed_count(db, coupon_id) == 1


def test_a_coupon_in_another_currency_is_refused(db: Any, setting: Any) -> None:
    coupon_id = _coupon(db, setting.admin.id, type="FIXED", value=500, currency="USD")

    error = _refused("SAVE10", setting.customer.id, setting.event.id, setting.booking_id, currency="EUR")

    assert (error.status, error.code) == (422, "COUPON_CURRENCY_MISMATCH")
    assert _redeemed_count(db, coupon_id) == 0


def test_a_fully_redeemed_coupon_is_refused_as_exhausted(db: Any, setting: Any, accounts: Any, catalog: Any) -> None:
    coupon_id = _coupon(db, setting.admin.id, max_redemptions=1)
    _redeem("SAVE10", setting.customer.id, setting.event.id, setting.booking_id)
    latecomer = accounts.create("USER")
    late_booking = catalog.booking(setting.event, latecomer.id, status="PENDING")

    error = _refused("SAVE10", latecomer.id, setting.event.id, late_booking)

    assert (error.status, error.code) == (409, "COUPON_EXHAUSTED")
    assert _redeemed_count(db, coupon_id) == 1
    assert db.value("SELECT count(*) FROM coupon_redemptions WHERE booking_id = :id", id=late_booking) == 0


def test_a_customer_cannot_exceed_the_per_user_limit(db: Any, setting: Any, catalog: Any) -> None:
    coupon_id = _coupon(db, setting.admin.id, per_user_limit=1)
    _redeem("SAVE10", setting.customer.id, setting.event.id, setting.booking_id)
    second_booking = catalog.booking(setting.event, setting.customer.id, status="PENDING")

    error = _refused("SAVE10", setting.customer.id, setting.event.id, second_booking)

    assert (error.status, error.code) == (409, "COUPON_LIMIT_REACHED")
    assert _redeemed_count(db, coupon_id) == 1


def test_the_per_user_limit_does_not_stop_other_customers(db: Any, setting: Any, accounts: Any, catalog: Any) -> None:
    coupon_id = _coupon(db, setting.admin.id, per_user_limit=1)
    _redeem("SAVE10", setting.customer.id, setting.event.id, setting.booking_id)
    someone_else = accounts.create("USER")

    _redeem(
        "SAVE10", someone_else.id, setting.event.id, catalog.booking(setting.event, someone_else.id, status="PENDING")
    )

    assert _redeemed_count(db, coupon_id) == 2


def test_a_released_redemption_no_longer_counts_against_the_per_user_limit(db: Any, setting: Any, catalog: Any) -> None:
    coupon_id = _coupon(db, setting.admin.id, per_user_limit=1)
    _redeem("SAVE10", setting.customer.id, setting.event.id, setting.booking_id)
    with transaction() as tx:
        release_for_booking(tx, UUID(setting.booking_id))

    _redeem(
        "SAVE10",
        setting.customer.id,
        setting.event.id,
        catalog.booking(setting.event, setting.customer.id, status="PENDING"),
    )

    assert _redeemed_count(db, coupon_id) == 1
    assert db.value("SELECT count(*) FROM coupon_redemptions WHERE released_at IS NULL") == 1


def test_releasing_gives_the_coupon_back_once(db: Any, setting: Any) -> None:
    coupon_id = _coupon(db, setting.admin.id, max_redemptions=1)
    _redeem("SAVE10", setting.customer.id, setting.event.id, setting.booking_id)

    with transaction() as tx:
        release_for_booking(tx, UUID(setting.booking_id))
    with transaction() as tx:
        release_for_booking(tx, UUID(setting.booking_id))

    assert _redeemed_count(db, coupon_id) == 0
    assert db.value(
        "SELECT released_at IS NOT NULL FROM coupon_redemptions WHERE booking_id = :id", id=setting.booking_id
    )


def test_releasing_a_booking_without_a_coupon_changes_nothing(db: Any, setting: Any, catalog: Any) -> None:
    coupon_id = _coupon(db, setting.admin.id)
    _redeem("SAVE10", setting.customer.id, setting.event.id, setting.booking_id)
    plain_booking = catalog.booking(setting.event, setting.customer.id, status="PENDING")

    with transaction() as tx:
        release_for_booking(tx, UUID(plain_booking))

    assert _redeemed_count(db, coupon_id) == 1
    assert db.value("SELECT count(*) FROM coupon_redemptions WHERE released_at IS NULL") == 1


def test_a_booking_transaction_that_fails_counts_nothing(db: Any, setting: Any) -> None:
    coupon_id = _coupon(db, setting.admin.id, max_redemptions=1)

    def booking_that_fails_after_the_coupon() -> None:
        with transaction() as tx:
            apply_coupon(
                tx,
                code="SAVE10",
                user_id=UUID(setting.customer.id),
                event_id=UUID(setting.event.id),
                subtotal=100,
                currency="EUR",
            )
            raise RuntimeError("the booking insert failed")

    with pytest.raises(RuntimeError):
        booking_that_fails_after_the_coupon()

    assert _redeemed_count(db, coupon_id) == 0
