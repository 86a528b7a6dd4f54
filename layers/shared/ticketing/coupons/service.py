"""Coupon redemption rules. `apply_coupon`, `record_redemption` and `release_for_booking` run inside the
booking's own transaction, so a coupon is counted exactly when the booking exists and given back exactly
when it is cancelled or expires.

Lock order: the booking code locks its seats first, then `apply_coupon` locks the coupon row. The row lock
serialises redemptions of one coupon, so `max_redemptions` and `per_user_limit` cannot be overshot by
concurrent bookings (and the CHECK on `coupons` backs the global limit in the database itself).
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from ticketing.auth.principal import Principal
from ticketing.coupons import repository as coupons_repo
from ticketing.coupons.models import CouponCreate, CouponOut
from ticketing.db import Session, transaction
from ticketing.db.id_set import IdSet
from ticketing.errors import Conflict, Forbidden, ValidationFailed
from ticketing.http.paging import page_offset
from ticketing.models import Page

PERCENT = "PERCENT"
FIXED = "FIXED"

_FIELD = "couponCode"


@dataclass(frozen=True)
class AppliedCoupon:
    coupon_id: UUID
    code: str
    discount: int


def discount_for(coupon_type: str, value: int, subtotal: int) -> int:
    """The discount in minor units: PERCENT rounds down (never over-discounts), FIXED is capped at the subtotal."""
    if coupon_type == PERCENT:
        return subtotal * value // 100
    return min(value, subtotal)


def _invalid(message: str, code: str = "COUPON_INVALID") -> ValidationFailed:
    return ValidationFailed.for_field(_FIELD, message, code=code)


def apply_coupon(
    tx: Session, *, code: str, user_id: UUID, event_id: UUID, subtotal: int, currency: str
) -> AppliedCoupon:
    """Checks the coupon for this booking, counts one redemption and answers the discount.

    Unknown codes and coupons of another event look the same (422 COUPON_INVALID), so codes cannot be probed.
    """
    coupon = coupons_repo.lock_by_code(tx, code.strip())
    if coupon is None or (coupon["event_id"] is not None and coupon["event_id"] != event_id):
        raise _invalid("This coupon code is not valid for this event.")
    now = coupon["checked_at"]
    if coupon["valid_from"] is not None and now < coupon["valid_from"]:
        raise _invalid("This coupon is not valid yet.", "COUPON_NOT_ACTIVE")
    if coupon["valid_until"] is not None and now >= coupon["valid_until"]:
        raise _invalid("This coupon has expired.", "COUPON_NOT_ACTIVE")
    if coupon["currency"] is not None and coupon["currency"] != currency:
        raise _invalid(f"This coupon is for bookings in {coupon['currency']}.", "COUPON_CURRENCY_MISMATCH")
    if subtotal < coupon["min_subtotal"]:
        raise ValidationFailed(
            "The booking is below this coupon's minimum subtotal.",
            code="COUPON_MIN_SUBTOTAL",
            details={
                "fields": [{"field": _FIELD, "message": "The booking is below this coupon's minimum subtotal."}],
                "minSubtotal": coupon["min_subtotal"],
            },
        )
    max_redemptions = coupon["max_redemptions"]
    if max_redemptions is not None and coupon["redeemed_count"] >= max_redemptions:
        raise Conflict("This coupon has been fully redeemed.", code="COUPON_EXHAUSTED")
    per_user_limit = coupon["per_user_limit"]
    if per_user_limit is not None and coupons_repo.count_live_redemptions(tx, coupon["id"], user_id) >= per_user_limit:
        raise Conflict("You have already used this coupon as often as allowed.", code="COUPON_LIMIT_REACHED")
    coupons_repo.add_to_redeemed_count(tx, coupon["id"], 1)
    return AppliedCoupon(
        coupon_id=coupon["id"],
        code=coupon["code"],
        discount=discount_for(coupon["type"], int(coupon["value"]), subtotal),
    )


def record_redemption(tx: Session, applied: AppliedCoupon, *, booking_id: UUID, user_id: UUID) -> None:
    """Ties the redemption counted by `apply_coupon` to the booking, once the booking row exists."""
    coupons_repo.insert_redemption(tx, coupon_id=applied.coupon_id, booking_id=booking_id, user_id=user_id)


def release_for_booking(tx: Session, booking_id: UUID) -> None:
    """Gives the booking's coupon back (cancel, expiry). Idempotent: a released or coupon-less booking is a no-op."""
    release_for_bookings(tx, IdSet.of([booking_id]))


def release_for_bookings(tx: Session, booking_ids: IdSet) -> int:
    """Gives back the coupons of many bookings at once (cancel, expiry, event cancellation). Idempotent."""
    return coupons_repo.release_redemptions(tx, booking_ids)


def create_coupon(principal: Principal, request: CouponCreate) -> CouponOut:
    """Admins create coupons for any or every event; organizers only for events they organize."""
    if not principal.is_admin and request.event_id is None:
        raise Forbidden("Organizers can only create coupons for their own events; send eventId.")
    with transaction() as tx:
        currency = request.currency
        if request.event_id is not None:
            event = coupons_repo.find_event(tx, request.event_id)
            if event is None:
                raise ValidationFailed.for_field("eventId", "No such event.")
            if not principal.is_admin and event["organizer_id"] != principal.user_id:
                raise Forbidden("You can only create coupons for events you organize.")
            if currency is not None and currency != event["currency"]:
                raise ValidationFailed.for_field("currency", f"The event sells in {event['currency']}.")
            currency = event["currency"]
        if currency is None and (request.type == FIXED or request.min_subtotal > 0):
            raise ValidationFailed.for_field(
                "currency", "An amount off or a minimum subtotal needs a currency (or an eventId to take it from)."
            )
        row = coupons_repo.insert_coupon(
            tx,
            code=request.code,
            coupon_type=request.type,
            value=request.value,
            currency=currency,
            event_id=request.event_id,
            max_redemptions=request.max_redemptions,
            per_user_limit=request.per_user_limit,
            valid_from=request.valid_from,
            valid_until=request.valid_until,
            min_subtotal=request.min_subtotal,
            created_by=principal.user_id,
        )
    return CouponOut.from_row(row)


def list_coupons(principal: Principal, *, event_id: UUID | None, page: int, page_size: int) -> Page[CouponOut]:
    with transaction() as tx:
        rows, total = coupons_repo.list_coupons(
            tx,
            visible_to=None if principal.is_admin else principal.user_id,
            event_id=event_id,
            limit=page_size,
            offset=page_offset(page, page_size),
        )
    return Page[CouponOut](items=[CouponOut.from_row(row) for row in rows], page=page, page_size=page_size, total=total)
