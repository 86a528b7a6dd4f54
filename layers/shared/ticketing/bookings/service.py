"""Bookings (docs/booking-lifecycle.md): create from the caller's holds, cancel, read. Paying and confirming
are checkout's (ticketing.bookings.checkout, docs/payments.md).

State changes are version-checked: a confirm is the optimistic `UPDATE ... WHERE version = :v AND status =
'PENDING'`, so a confirm racing another confirm, a cancel or the expiry job has exactly one winner and the loser
gets a clean 409.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from uuid import UUID

from ticketing import domain_events
from ticketing.auth.principal import Principal
from ticketing.bookings import holds_repository as holds_repo
from ticketing.bookings import repository as repo
from ticketing.bookings.closing import (
    CANCELLED,
    CANCELLED_BY_CUSTOMER,
    CONFIRMED,
    EXPIRED,
    close_bookings,
)
from ticketing.bookings.holds import lock_event_seats, on_sale_event
from ticketing.bookings.models import BookingOut, CancelRequest, CreateBookingRequest
from ticketing.catalog.events import repository as events_repo
from ticketing.config import get_settings
from ticketing.db import Session, transaction
from ticketing.db.connection import Row
from ticketing.db.id_set import IdSet
from ticketing.errors import (
    Conflict,
    NotFound,
    PreconditionFailed,
)
from ticketing.http.paging import page_offset
from ticketing.models import MAX_INT32, Page
from ticketing.observability import count
from ticketing.payments import repository as payments

PENDING = "PENDING"

# Given by a request with an Idempotency-Key (ticketing.http.idempotency): stores its answer, the booking as the
# calling transaction leaves it, in that transaction. Confirm and cancel call it in the one that commits their
# outcome, so that the answer commits with it.
StoreAnswer = Callable[[Session, BookingOut], None]


@dataclass(frozen=True)
class ExpectedVersion:
    """What the client believes the booking's version is: in the body, in `If-Match`, or both."""

    body: int | None = None
    if_match: int | None = None

    @classmethod
    def from_request(cls, body: int | None, if_match_header: str | None) -> ExpectedVersion:
        """`If-Match: "3"` (weak `W/"3"` too; `*` matches any version, so it checks nothing)."""
        if if_match_header is None or if_match_header.strip() == "*":
            return cls(body=body)
        value = if_match_header.strip().removeprefix("W/").strip('"')
        # Only ASCII digits within the version column's range can name a version; anything else never matches.
        if not (value.isascii() and value.isdigit() and len(value) <= 10 and int(value) <= MAX_INT32):
            raise PreconditionFailed('If-Match must name a booking version, such as "3".')
        return cls(body=body, if_match=int(value))

    @property
    def given(self) -> bool:
        return self.body is not None or self.if_match is not None

    def check_if_match(self, booking: Row) -> None:
        if self.if_match is not None and self.if_match != booking["version"]:
            raise PreconditionFailed(
                "If-Match does not match the booking's current version.",
                details={"currentVersion": booking["version"]},
            )

    def check_body(self, booking: Row) -> None:
        if self.body is not None and self.body != booking["version"]:
            raise version_conflict(booking)


def version_conflict(booking: Row) -> Conflict:
    return Conflict(
        "The booking has changed; reload it and retry.",
        code="VERSION_CONFLICT",
        details={"currentVersion": booking["version"], "status": booking["status"]},
    )


def expired(booking: Row) -> Conflict:
    return Conflict(
        "The booking's payment window has closed.", code="BOOKING_EXPIRED", details={"bookingId": str(booking["id"])}
    )


def visible_booking(
    tx: Session, principal: Principal, booking_id: UUID, *, admin_allowed: bool, for_update: bool
) -> Row:
    """The booking when the caller may see it; anyone else gets the same 404 as for a missing booking."""
    booking = repo.find_booking(tx, booking_id, for_update=for_update)
    if booking is None or not (booking["user_id"] == principal.user_id or (admin_allowed and principal.is_admin)):
        raise NotFound("No such booking.")
    return booking


def booking_views(tx: Session, bookings: list[Row]) -> list[BookingOut]:
    ids = [booking["id"] for booking in bookings]
    items: dict[UUID, list[Row]] = defaultdict(list)
    for item in repo.items_of(tx, ids):
        items[item["booking_id"]].append(item)
    paid = {payment["booking_id"]: payment for payment in payments.payments_of(tx, ids)}
    return [BookingOut.from_rows(b, items[b["id"]], paid.get(b["id"])) for b in bookings]


def visible_view(tx: Session, principal: Principal, booking_id: UUID, *, admin_allowed: bool) -> BookingOut:
    booking = visible_booking(tx, principal, booking_id, admin_allowed=admin_allowed, for_update=False)
    return booking_views(tx, [booking])[0]


def create_booking(principal: Principal, request: CreateBookingRequest) -> BookingOut:
    """A PENDING booking from the caller's live holds; the seats stay HELD for it until it expires."""
    settings = get_settings()
    user_id = principal.user_id
    with transaction() as tx:
        # FOR SHARE: an event cannot be cancelled between this check and commit (it waits for us instead).
        event = on_sale_event(tx, request.event_id, share_lock=True)
        if request.seat_ids is not None:
            seats = lock_event_seats(tx, request.event_id, request.seat_ids)
        else:
            seats = holds_repo.lock_own_holds(tx, user_id, request.event_id, live_only=True)
        not_held = [str(s["id"]) for s in seats if not (s["live_hold"] and s["held_by"] == user_id)]
        if not seats or not_held:
            raise Conflict(
                "Hold the seats first: a booking is made from your live holds.",
                code="SEATS_NOT_HELD",
                details={"seatIds": not_held},
            )
        seat_ids = [seat["id"] for seat in seats]
        subtotal = sum(row["price"] for row in repo.seat_prices(tx, seat_ids))
        applied = None
        if request.coupon_code is not None:
            # Imported only when a coupon is used: most bookings never load the coupon code.
            from ticketing.coupons.service import apply_coupon

            # Lock order everywhere: seats (above), then the coupon row.
            applied = apply_coupon(
                tx,
                code=request.coupon_code,
                user_id=user_id,
                event_id=request.event_id,
                subtotal=subtotal,
                currency=event["currency"],
            )
        booking = repo.insert_booking(
            tx,
            user_id=user_id,
            event_id=request.event_id,
            subtotal=subtotal,
            discount=min(applied.discount, subtotal) if applied else 0,
            currency=event["currency"],
            coupon_id=applied.coupon_id if applied else None,
            coupon_code=applied.code if applied else None,
            ttl_seconds=settings.booking_ttl_seconds,
        )
        repo.insert_items(tx, booking["id"], seat_ids)
        repo.attach_seats(tx, booking["id"], seat_ids, booking["expires_at"])
        if applied:
            from ticketing.coupons.service import record_redemption

            record_redemption(tx, applied, booking_id=booking["id"], user_id=user_id)
        view = booking_views(tx, [booking])[0]
    count("BookingsCreated")
    return view


def cancel_booking(
    principal: Principal,
    booking_id: UUID,
    request: CancelRequest,
    expected: ExpectedVersion,
    store_answer: StoreAnswer | None = None,
) -> BookingOut:
    """Customers cancel their own bookings (admins any); a confirmed one is refunded, outside the cutoff.

    The cancel commits with the refund queued, and with `store_answer`'s answer (the booking as cancelled); the
    refund is then tried at once, outside the transaction, and the answer says how it went.
    """
    settings = get_settings()
    with transaction() as tx:
        booking = visible_booking(tx, principal, booking_id, admin_allowed=True, for_update=True)
        expected.check_if_match(booking)
        if booking["status"] == CANCELLED:
            raise Conflict("This booking is already cancelled.", code="ALREADY_CANCELLED")
        if booking["status"] == EXPIRED:
            raise expired(booking)
        expected.check_body(booking)
        if booking["status"] == CONFIRMED and not principal.is_admin:
            event = events_repo.sale_state(tx, booking["event_id"])
            assert event is not None
            hours_left = (event["starts_at"] - repo.database_now(tx)).total_seconds() / 3600
            if hours_left < settings.cancellation_cutoff_hours:
                raise Conflict(
                    f"Bookings cannot be cancelled within {settings.cancellation_cutoff_hours} hours of the event.",
                    code="CANCELLATION_WINDOW_CLOSED",
                    details={"cutoffHours": settings.cancellation_cutoff_hours},
                )
        closed = close_bookings(
            tx, IdSet.of([booking_id]), status=CANCELLED, reason=request.reason, notice=CANCELLED_BY_CUSTOMER
        )
        if store_answer is not None:
            store_answer(tx, visible_view(tx, principal, booking_id, admin_allowed=True))
    count("BookingsCancelled")
    domain_events.publish_after_commit()
    if closed.refunds_queued:
        # Right after commit, outside any lock: usually the answer already says REFUNDED; if the provider did
        # not answer, REFUND_PENDING, and the refund workers retry it (docs/refunds.md).
        from ticketing.refunds.worker import refund_now

        refund_now([booking_id])
    with transaction() as tx:
        return visible_view(tx, principal, booking_id, admin_allowed=True)


def get_booking(principal: Principal, booking_id: UUID) -> BookingOut:
    with transaction() as tx:
        return visible_view(tx, principal, booking_id, admin_allowed=True)


def list_bookings(
    principal: Principal, *, status: str | None, event_id: UUID | None, page: int, page_size: int
) -> Page[BookingOut]:
    with transaction() as tx:
        rows, total = repo.list_bookings(
            tx,
            user_id=principal.user_id,
            status=status,
            event_id=event_id,
            limit=page_size,
            offset=page_offset(page, page_size),
        )
        items = booking_views(tx, rows)
    return Page[BookingOut](items=items, page=page, page_size=page_size, total=total)
