"""Seat holds (docs/booking-lifecycle.md): where a hold is placed, released and extended, and what the caller holds.

A hold is one transaction that locks the requested seat rows in ascending id order with
`FOR UPDATE NOWAIT`: a seat another request is locking right now is 409 SEATS_LOCKED at once, never a
wait. The event row is read without a lock for the same reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import groupby
from uuid import UUID

from ticketing import domain_events
from ticketing.auth.principal import Principal
from ticketing.bookings import repository as repo
from ticketing.bookings.closing import expire_overdue_bookings
from ticketing.bookings.models import (
    ExtendRequest,
    ExtendResult,
    HeldSeats,
    HoldRequest,
    HoldResult,
    HoldStatus,
    ReleaseRequest,
    ReleaseResult,
    SeatOut,
    seconds_between,
)
from ticketing.config import get_settings
from ticketing.db import Session, transaction
from ticketing.db.connection import Row
from ticketing.errors import Conflict, NotFound, SeatsLocked
from ticketing.observability import count


def on_sale_event(tx: Session, event_id: UUID, *, share_lock: bool = False) -> Row:
    """The event, if it is on sale right now (404 when it does not exist, 409 EVENT_NOT_ON_SALE otherwise)."""
    event = repo.find_event(tx, event_id, share_lock=share_lock)
    if event is None:
        raise NotFound("No such event.")
    if not event["on_sale"]:
        raise Conflict("This event is not on sale.", code="EVENT_NOT_ON_SALE", details={"eventId": str(event_id)})
    return event


def lock_event_seats(tx: Session, event_id: UUID, seat_ids: Sequence[UUID]) -> list[Row]:
    """Locks the seats (NOWAIT, id order); 404 naming the ids that are not seats of this event."""
    try:
        seats = repo.lock_seats(tx, event_id, sorted(seat_ids))
    except SeatsLocked:
        count("SeatLockConflicts")
        raise
    if len(seats) != len(seat_ids):
        found = {seat["id"] for seat in seats}
        missing = [str(seat_id) for seat_id in seat_ids if seat_id not in found]
        raise NotFound("Some seats are not seats of this event.", details={"seatIds": missing})
    return seats


def _is_free(seat: Row) -> bool:
    """Available, or held without a booking by a hold that has run out (whether or not the job has run)."""
    return seat["status"] == "AVAILABLE" or (
        seat["status"] == "HELD" and seat["booking_id"] is None and not seat["live_hold"]
    )


def place_hold(principal: Principal, request: HoldRequest) -> HoldResult:
    settings = get_settings()
    user_id = principal.user_id
    with transaction() as tx:
        event = on_sale_event(tx, request.event_id)
        if not repo.try_lock_buyer(tx, user_id, request.event_id):
            # Another hold of this buyer for this event is running; it decides the ticket limit first.
            raise SeatsLocked("Another hold of yours for this event is in progress; retry in a second.")
        seats = lock_event_seats(tx, request.event_id, request.seat_ids)
        # A booking past its payment window no longer owns its seats, whether or not the job has run.
        pending = sorted({seat["booking_id"] for seat in seats if seat["status"] == "HELD" and seat["booking_id"]})
        expired_bookings = expire_overdue_bookings(tx, pending) if pending else 0
        if expired_bookings:
            seats = lock_event_seats(tx, request.event_id, request.seat_ids)
        already_mine = [seat["id"] for seat in seats if seat["live_hold"] and seat["held_by"] == user_id]
        to_take = [seat["id"] for seat in seats if _is_free(seat)]
        unavailable = [seat["id"] for seat in seats if seat["id"] not in already_mine and seat["id"] not in to_take]
        if unavailable:
            raise Conflict(
                "Some of these seats are no longer available.",
                code="SEATS_UNAVAILABLE",
                details={"seatIds": [str(seat_id) for seat_id in unavailable]},
            )
        limit = event["max_tickets_per_user"]
        tickets = repo.count_tickets(tx, user_id, request.event_id)
        if tickets + len(to_take) > limit:
            raise Conflict(
                f"At most {limit} tickets per buyer for this event (held, pending and confirmed together).",
                code="TICKET_LIMIT",
                details={"limit": limit, "current": tickets, "requested": len(to_take)},
            )
        if to_take:
            repo.hold_seats(tx, to_take, user_id, settings.hold_ttl_seconds)
        held_until = repo.earliest_hold_expiry(tx, request.seat_ids)
    count("HoldsPlaced", len(to_take))
    if expired_bookings:
        domain_events.publish_after_commit()
    return HoldResult(
        event_id=request.event_id,
        seat_ids=request.seat_ids,
        held_until=held_until,
        hold_ttl_seconds=settings.hold_ttl_seconds,
    )


def release_hold(principal: Principal, request: ReleaseRequest) -> ReleaseResult:
    """Releases the caller's holds that no booking owns; seats the caller does not hold are ignored."""
    with transaction() as tx:
        seats = repo.lock_own_holds(tx, principal.user_id, request.event_id, seat_ids=request.seat_ids, live_only=False)
        released = [seat["id"] for seat in seats]
        if released:
            repo.release_holds(tx, released)
    return ReleaseResult(event_id=request.event_id, released_seat_ids=released)


def extend_hold(principal: Principal, request: ExtendRequest) -> ExtendResult:
    settings = get_settings()
    with transaction() as tx:
        on_sale_event(tx, request.event_id)
        seats = repo.lock_own_holds(tx, principal.user_id, request.event_id, live_only=True)
        if not seats:
            raise NotFound("You hold no seats for this event.")
        exhausted = [str(seat["id"]) for seat in seats if seat["hold_extensions"] >= settings.max_hold_extensions]
        if exhausted:
            raise Conflict(
                f"A hold can be extended at most {settings.max_hold_extensions} times.",
                code="HOLD_EXTENSION_LIMIT",
                details={"seatIds": exhausted, "maxExtensions": settings.max_hold_extensions},
            )
        seat_ids = [seat["id"] for seat in seats]
        held_until = repo.extend_holds(tx, seat_ids, settings.hold_ttl_seconds)
    return ExtendResult(event_id=request.event_id, seat_ids=seat_ids, held_until=held_until)


def hold_status(principal: Principal, event_id: UUID | None) -> HoldStatus:
    with transaction() as tx:
        now = repo.database_now(tx)
        rows = repo.live_holds(tx, principal.user_id, event_id)
    holds = []
    for held_event_id, group in groupby(rows, key=lambda row: row["event_id"]):
        seats = list(group)
        held_until = min(seat["held_until"] for seat in seats)
        holds.append(
            HeldSeats(
                event_id=held_event_id,
                seats=[
                    SeatOut(id=s["id"], section=s["section"], row=s["row"], number=s["number"], price=s["price"])
                    for s in seats
                ],
                held_until=held_until,
                seconds_left=seconds_between(now, held_until),
            )
        )
    return HoldStatus(server_time=now, holds=holds)
