"""Coupon discount arithmetic: minor units, never more than the subtotal, never a fraction of a cent."""

from __future__ import annotations

import pytest

from ticketing.coupons.service import discount_for


@pytest.mark.parametrize(
    ("percent", "subtotal", "expected"),
    [
        (10, 2500, 250),
        (100, 2500, 2500),
        (1, 99, 0),  # 0.99 cents rounds down: the customer never gets more than the coupon promises
        (15, 1999, 299),  # 299.85 → 299
        (33, 10_000_000_000, 3_300_000_000),
        (50, 0, 0),
    ],
)
def test_percent_coupons_take_the_percentage_rounded_down(percent: int, subtotal: int, expected: int) -> None:
    assert discount_for("PERCENT", percent, subtotal) == expected


@pytest.mark.parametrize(
    ("amount", "subtotal", "expected"),
    [
        (500, 2500, 500),
        (2500, 2500, 2500),
        (3000, 2500, 2500),  # capped: the total is never negative
        (1, 0, 0),
    ],
)
def test_fixed_coupons_take_the_amount_but_never_more_than_the_subtotal(
    amount: int, subtotal: int, expected: int
) -> None:
    assert discount_for("FIXED", amount, subtotal) == expected
