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
from ticketing.bookings import holds_repository as holds_repo
from ticketing.bookings import repository as repo
from ticketing.bookings import seat_search_repository as seat_search
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
    SeatLabel,
    SeatOut,
    seconds_between,
)
from ticketing.catalog.events import repository as events_repo
from ticketing.config import get_settings
from ticketing.db import Session, transaction
from ticketing.db.connection import Row
from ticketing.errors import Conflict, NotFound, SeatsLocked, ValidationFailed
from ticketing.observability import count


def on_sale_event(tx: Session, event_id: UUID, *, share_lock: bool = False, with_sections: bool = False) -> Row:
    """The event, if it is on sale right now (404 when it does not exist, 409 EVENT_NOT_ON_SALE otherwise)."""
    event = events_repo.sale_state(tx, event_id, share_lock=share_lock, with_sections=with_sections)
    if event is None:
        raise NotFound("No such event.")
    if not event["on_sale"]:
        raise Conflict("This event is not on sale.", code="EVENT_NOT_ON_SALE", details={"eventId": str(event_id)})
    return event


def lock_event_seats(tx: Session, event_id: UUID, seat_ids: Sequence[UUID]) -> list[Row]:
    """Locks the seats (NOWAIT, id order); 404 naming the ids that are not seats of this event."""
    try:
        seats = holds_repo.lock_seats(tx, event_id, sorted(seat_ids))
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


def lock_buyer(tx: Session, user_id: UUID, event_id: UUID) -> None:
    """One hold at a time per buyer and event, so the ticket limit is checked once per hold; never waits."""
    if not holds_repo.try_lock_buyer(tx, user_id, event_id):
        raise SeatsLocked("Another hold of yours for this event is in progress; retry in a second.")


def check_ticket_limit(tx: Session, event: Row, user_id: UUID, requested: int) -> None:
    """409 TICKET_LIMIT when `requested` more seats would pass the event's maxTicketsPerUser."""
    limit = event["max_tickets_per_user"]
    tickets = holds_repo.count_tickets(tx, user_id, event["id"])
    if tickets + requested > limit:
        raise Conflict(
            f"At most {limit} tickets per buyer for this event (held, pending and confirmed together).",
            code="TICKET_LIMIT",
            details={"limit": limit, "current": tickets, "requested": requested},
        )


def free_overdue_bookings(tx: Session, seats: Sequence[Row]) -> int:
    """A booking past its payment window no longer owns its seats, whether or not the job has run: expire
    the ones among these seats' bookings now. Answers how many were expired."""
    pending = sorted({seat["booking_id"] for seat in seats if seat["status"] == "HELD" and seat["booking_id"]})
    return expire_overdue_bookings(tx, pending) if pending else 0


def row_index_of(label: str) -> int:
    """The row index a label names, bijective base 26 like `seat_row_label()` (A = 1, Z = 26, AA = 27)."""
    index = 0
    for letter in label:
        index = index * 26 + ord(letter) - ord("A") + 1
    return index


def resolve_labels(tx: Session, event_id: UUID, labels: Sequence[SeatLabel]) -> list[UUID]:
    """Seat ids for seats named by section, row and number (one statement); 422 naming the first unknown part."""
    found = holds_repo.seats_by_label(
        tx, event_id, [(label.section_id, row_index_of(label.row), label.row, label.number) for label in labels]
    )
    ids = {row["position"]: row["id"] for row in found}
    missing = [position for position in range(1, len(labels) + 1) if position not in ids]
    if missing:
        raise _unknown_label(tx, event_id, missing[0] - 1, labels[missing[0] - 1])
    return [ids[position] for position in range(1, len(labels) + 1)]


def _unknown_label(tx: Session, event_id: UUID, index: int, label: SeatLabel) -> ValidationFailed:
    section = next((s for s in seat_search.event_sections(tx, event_id) if s["section_id"] == label.section_id), None)
    if section is None:
        field, message = "sectionId", f"No section {label.section_id} in this event."
    elif row_index_of(label.row) > section["rows"]:
        field, message = "row", f"No row {label.row} in section {label.section_id}."
    else:
        field, message = "number", f"No seat {label.row}{label.number} in section {label.section_id}."
    return ValidationFailed.for_field(f"seats[{index}].{field}", message)


def place_hold(principal: Principal, request: HoldRequest) -> HoldResult:
    settings = get_settings()
    user_id = principal.user_id
    with transaction() as tx:
        event = on_sale_event(tx, request.event_id)
        seat_ids = request.seat_ids or resolve_labels(tx, request.event_id, request.seats or [])
        lock_buyer(tx, user_id, request.event_id)
        seats = lock_event_seats(tx, request.event_id, seat_ids)
        expired_bookings = free_overdue_bookings(tx, seats)
        if expired_bookings:
            seats = lock_event_seats(tx, request.event_id, seat_ids)
        already_mine = [seat["id"] for seat in seats if seat["live_hold"] and seat["held_by"] == user_id]
        to_take = [seat["id"] for seat in seats if _is_free(seat)]
        unavailable = [seat["id"] for seat in seats if seat["id"] not in already_mine and seat["id"] not in to_take]
        if unavailable:
            raise Conflict(
                "Some of these seats are no longer available.",
                code="SEATS_UNAVAILABLE",
                details={"seatIds": [str(seat_id) for seat_id in unavailable]},
            )
        check_ticket_limit(tx, event, user_id, len(to_take))
        # Seats the caller already held keep their expiry; the answer names the earliest of all.
        expiries = [seat["held_until"] for seat in seats if seat["id"] in already_mine]
        if to_take:
            expiries.append(holds_repo.hold_seats(tx, to_take, user_id, settings.hold_ttl_seconds))
        held_until = min(expiries)
    count("HoldsPlaced", len(to_take))
    if expired_bookings:
        domain_events.publish_after_commit()
    return HoldResult(
        event_id=request.event_id,
        seat_ids=seat_ids,
        held_until=held_until,
        hold_ttl_seconds=settings.hold_ttl_seconds,
    )


def release_hold(principal: Principal, request: ReleaseRequest) -> ReleaseResult:
    """Releases the caller's holds that no booking owns; seats the caller does not hold are ignored."""
    with transaction() as tx:
        seats = holds_repo.lock_own_holds(
            tx, principal.user_id, request.event_id, seat_ids=request.seat_ids, live_only=False
        )
        released = [seat["id"] for seat in seats]
        if released:
            holds_repo.release_holds(tx, released)
    return ReleaseResult(event_id=request.event_id, released_seat_ids=released)


def extend_hold(principal: Principal, request: ExtendRequest) -> ExtendResult:
    """Moves every live hold of the caller for the event to now + HOLD_TTL_SECONDS, using one extension.

    An extension is spent only when it moves `heldUntil` (by at least a second, the API's precision): right
    after a hold, extending answers the hold as it is and keeps the extension.
    """
    settings = get_settings()
    with transaction() as tx:
        on_sale_event(tx, request.event_id)
        seats = holds_repo.lock_own_holds(tx, principal.user_id, request.event_id, live_only=True)
        if not seats:
            raise NotFound("You hold no seats for this event.")
        seat_ids = [seat["id"] for seat in seats]
        used = max(seat["hold_extensions"] for seat in seats)
        if not holds_repo.extension_would_move(tx, seat_ids, settings.hold_ttl_seconds):
            held_until = min(seat["held_until"] for seat in seats)
        elif used >= settings.max_hold_extensions:
            raise Conflict(
                f"A hold can be extended at most {settings.max_hold_extensions} times.",
                code="HOLD_EXTENSION_LIMIT",
                details={
                    "seatIds": [str(s["id"]) for s in seats if s["hold_extensions"] >= settings.max_hold_extensions],
                    "maxExtensions": settings.max_hold_extensions,
                },
            )
        else:
            held_until = holds_repo.extend_holds(tx, seat_ids, settings.hold_ttl_seconds)
            used += 1
    return ExtendResult(
        event_id=request.event_id,
        seat_ids=seat_ids,
        held_until=held_until,
        extensions_left=max(0, settings.max_hold_extensions - used),
    )


def hold_status(principal: Principal, event_id: UUID | None) -> HoldStatus:
    max_extensions = get_settings().max_hold_extensions
    with transaction() as tx:
        now = repo.database_now(tx)
        rows = holds_repo.live_holds(tx, principal.user_id, event_id)
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
                extensions_left=max(0, max_extensions - max(seat["hold_extensions"] for seat in seats)),
            )
        )
    return HoldStatus(server_time=now, holds=holds)
