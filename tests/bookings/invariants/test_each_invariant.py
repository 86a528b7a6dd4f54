"""Each invariant, broken on purpose: Given the consistent world, When one row is corrupted, Then the check
reports exactly that invariant, with that row, and would exit 1.

The corruptions run with triggers and foreign keys off (replica mode) and, where the schema itself forbids
the state, without the constraint that forbids it: the check is there for what got past them anyway (a
migration, a manual fix, a bug in a trigger). Every corruption is rolled back after its check.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from ticketing.ops.invariants import Report


@dataclass(frozen=True)
class Case:
    invariant: str
    statements: list[str]
    # (column of the reported row, world id it must hold): which row the report must name.
    row: tuple[str, str]


_VOID = "status = 'VOID', voided_at = now(), void_reason = 'CANCELLED'"
_DROP_HELD_CHECK = (
    "DO $$ BEGIN EXECUTE (SELECT format('ALTER TABLE event_seats DROP CONSTRAINT %I', conname) FROM pg_constraint"
    " WHERE conrelid = 'event_seats'::regclass AND pg_get_constraintdef(oid) LIKE '%''HELD''%held_until%'); END $$"
)

CASES = [
    Case(
        "bookings.seat_in_one_live_booking",
        [
            "INSERT INTO booking_items (booking_id, booking_status, event_seat_id, price)"
            " VALUES (:pending, 'CANCELLED', :seat0, 0)"
        ],
        ("seat_id", "seat0"),
    ),
    Case(
        "bookings.booked_seat_in_confirmed_booking",
        ["UPDATE event_seats SET status = 'BOOKED', booking_status = 'CONFIRMED' WHERE id = :seat2"],
        ("seat_id", "seat2"),
    ),
    Case(
        "bookings.confirmed_booking_seats_booked",
        [
            "UPDATE event_seats SET status = 'HELD', held_by = :confirmed_buyer, held_until = now()"
            " + interval '5 minutes' WHERE id = :seat0"
        ],
        ("seat_id", "seat0"),
    ),
    Case(
        "bookings.held_seat_has_holder_and_expiry",
        [_DROP_HELD_CHECK, "UPDATE event_seats SET held_until = NULL WHERE id = :held_seat"],
        ("seat_id", "held_seat"),
    ),
    Case(
        "bookings.totals_add_up",
        ["UPDATE bookings SET subtotal = subtotal + 100, total = total + 100 WHERE id = :pending"],
        ("booking_id", "pending"),
    ),
    Case(
        "bookings.succeeded_payment_of_confirmed_booking",
        [
            "INSERT INTO payments (booking_id, status, amount, currency, provider)"
            " SELECT id, 'SUCCEEDED', total, currency, 'stripe' FROM bookings WHERE id = :pending"
        ],
        ("booking_id", "pending"),
    ),
    Case(
        "bookings.confirmed_booking_paid",
        ["UPDATE payments SET amount = amount - 1 WHERE id = :confirmed_payment"],
        ("booking_id", "confirmed"),
    ),
    Case(
        "bookings.confirmed_booking_ticketed",
        [f"UPDATE tickets SET {_VOID} WHERE booking_id = :confirmed AND event_seat_id = :seat0"],
        ("seat_id", "seat0"),
    ),
    Case(
        "bookings.tickets_only_for_confirmed_bookings",
        ["UPDATE tickets SET status = 'VALID', voided_at = NULL, void_reason = NULL WHERE booking_id = :cancelled"],
        ("booking_id", "cancelled"),
    ),
    Case(
        "bookings.domain_event_recorded",
        [
            "DELETE FROM outbox_events WHERE event_type = 'BookingConfirmed'"
            " AND payload->>'bookingId' = CAST(:confirmed AS text)"
        ],
        ("booking_id", "confirmed"),
    ),
    Case(
        "bookings.coupon_released_with_booking",
        [
            "UPDATE coupon_redemptions SET released_at = NULL WHERE booking_id = :cancelled",
            "UPDATE coupons SET redeemed_count = redeemed_count + 1",
        ],
        ("booking_id", "cancelled"),
    ),
    Case(
        "catalog.events.cancellation_event_recorded",
        ["UPDATE events SET status = 'CANCELLED', cancelled_at = now() WHERE id = :event"],
        ("event_id", "event"),
    ),
    Case(
        "tickets.no_void_ticket_admitted",
        ["UPDATE tickets SET checked_in_at = voided_at + interval '1 minute' WHERE booking_id = :cancelled"],
        ("booking_id", "cancelled"),
    ),
    Case(
        "tickets.one_live_ticket_per_seat",
        [
            "DROP INDEX tickets_live_seat_key",
            "INSERT INTO tickets (booking_id, event_id, event_seat_id, holder_id)"
            " VALUES (:confirmed, :event, :seat0, :confirmed_buyer)",
        ],
        ("seat_id", "seat0"),
    ),
    Case(
        "coupons.redeemed_count_matches",
        ["UPDATE coupons SET redeemed_count = redeemed_count + 1"],
        ("code", "coupon"),
    ),
    Case(
        "coupons.within_limits",
        [
            "INSERT INTO coupon_redemptions (coupon_id, booking_id, user_id)"
            " SELECT coupon_id, :confirmed, user_id FROM coupon_redemptions WHERE booking_id = :pending",
            "UPDATE coupons SET redeemed_count = redeemed_count + 1",
        ],
        ("code", "coupon"),
    ),
    Case(
        "payments.provider_charge_recorded",
        [
            "INSERT INTO test_provider_intents (id, idempotency_key, amount, currency, status, client_secret, metadata)"
            " VALUES ('pi_test_orphan', 'orphan', 100, 'EUR', 'succeeded', 's',"
            " jsonb_build_object('payment_id', CAST(:pending AS text)))"
        ],
        ("payment_id", "pending"),
    ),
    Case(
        "payments.recorded_charge_at_provider",
        ["UPDATE test_provider_intents SET status = 'canceled' WHERE id = :confirmed_charge"],
        ("payment_id", "confirmed_payment"),
    ),
    Case(
        "payments.refunded_at_most_once",
        [
            "INSERT INTO test_provider_refunds (idempotency_key, charge_reference, amount, attempts, reference,"
            " refunded_at) SELECT 'second-key', charge_reference, amount, 1, 're_test_second', now()"
            " FROM test_provider_refunds WHERE charge_reference = :cancelled_charge"
        ],
        ("charge_reference", "cancelled_charge"),
    ),
    Case(
        "payments.refunds_match_provider_books",
        [
            "UPDATE test_provider_refunds SET reference = NULL, refunded_at = NULL"
            " WHERE idempotency_key = CAST(:cancelled_payment AS text)"
        ],
        ("payment_id", "cancelled_payment"),
    ),
    Case(
        "domain_events.published_after_expansion",
        [
            "UPDATE outbox_events SET expand_bookings = true, published_at = now()"
            " WHERE event_type = 'BookingConfirmed' AND payload->>'bookingId' = CAST(:confirmed AS text)"
        ],
        ("event_type", "BookingConfirmed"),
    ),
]


def test_every_invariant_has_its_case() -> None:
    from ticketing.ops.invariants import ALL_INVARIANTS

    assert sorted(case.invariant for case in CASES) == sorted(invariant.name for invariant in ALL_INVARIANTS)


@pytest.mark.parametrize("case", CASES, ids=[case.invariant for case in CASES])
def test_a_corrupted_row_breaks_exactly_its_invariant(
    case: Case, world: Any, corrupted: Callable[[list[str]], Report]
) -> None:
    report = corrupted(case.statements)

    assert [violation.invariant.name for violation in report.violations] == [case.invariant], report.lines()
    column, expected = case.row
    named = {**world.ids, "coupon": "CHAOS10", "BookingConfirmed": "BookingConfirmed"}[expected]
    assert [str(row[column]) for row in report.violations[0].rows] == [named], report.lines()
    assert report.exit_code == 1
