"""Best available (hold-best): `quantity` seats side by side in one row, chosen and held in one transaction.

The algorithm and its guarantees are described in docs/best-available.md. In short:

1. The eligible sections (the one asked for, or all; priced at most `maxPrice`; rows wide enough) are read
   from the event's few section rows.
2. Windows of rows, front first and growing, are read plainly to find the row indexes where some section
   has a free run of `quantity` seats (gaps and islands in SQL, never seat by seat in Python).
3. For each such row index, front first, the free seats of that row in those sections are locked with
   `FOR UPDATE SKIP LOCKED` and the best block among the seats this transaction got is chosen in the same
   statement. Seats another buyer is locking right now are skipped, so concurrent buyers end up in different
   rows instead of waiting or colliding. A row that yields nothing is given back at once (savepoint).
4. The block is held exactly like hold-seats holds seats; the result is an ordinary hold.

Refusals: 409 NO_ADJACENT_SEATS (with `largestBlock`) when no free block exists; 409 SEATS_LOCKED after a
short bounded retry when blocks exist but every one is being locked by other buyers.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from uuid import UUID

from ticketing import domain_events
from ticketing.auth.principal import Principal
from ticketing.bookings import holds_repository as holds_repo
from ticketing.bookings import seat_search_repository as seat_search
from ticketing.bookings.holds import check_ticket_limit, free_overdue_bookings, lock_buyer, on_sale_event
from ticketing.bookings.models import HoldBestRequest, HoldBestResult, SeatOut
from ticketing.config import get_settings
from ticketing.db import Session, transaction
from ticketing.db.connection import Row
from ticketing.errors import Conflict, SeatsLocked, ValidationFailed
from ticketing.observability import count

# The first window of rows reads about this many seats; each further window reads twice as many rows,
# so a search that must pass many sold-out rows takes a handful of statements, not one per row.
FIRST_WINDOW_SEATS = 1024
WINDOW_GROWTH = 2
# Searches when every block found was being locked by other buyers, and the pauses between them.
LOCKED_RETRY_PAUSES = (0.005, 0.02)


def _eligible_sections(event: Row, request: HoldBestRequest) -> list[Row]:
    sections = [{**section, "section_id": UUID(section["section_id"])} for section in event["sections"]]
    if request.section_id is not None:
        sections = [section for section in sections if section["section_id"] == request.section_id]
        if not sections:
            raise ValidationFailed.for_field("sectionId", "This section is not part of the event.")
    if request.max_price is not None:
        sections = [section for section in sections if section["price"] <= request.max_price]
    return sections


def _search(tx: Session, event_id: UUID, sections: Sequence[Row], quantity: int) -> tuple[list[Row], bool]:
    """The best block this transaction could lock, front row first; and whether any block was skipped
    because other transactions were locking it."""
    wide_enough = [section for section in sections if section["seats_per_row"] >= quantity]
    if not wide_enough:
        return [], False
    seats_per_row_index = sum(section["seats_per_row"] for section in wide_enough)
    last_row_index = max(section["rows"] for section in wide_enough)
    section_ids = [section["section_id"] for section in wide_enough]
    window = max(1, FIRST_WINDOW_SEATS // seats_per_row_index)
    first = 1
    skipped = False
    while first <= last_row_index:
        last = min(last_row_index, first + window - 1)
        # Usually one statement: the window's best blocks, the first of them this transaction could lock.
        block, candidates = seat_search.lock_best_block(tx, event_id, section_ids, quantity, first, last)
        if block:
            return block, skipped
        if candidates:
            # Other buyers are taking the window's best blocks right now: try its rows one by one.
            block, row_skipped = _search_rows(tx, event_id, section_ids, quantity, first, last)
            if block:
                return block, skipped
            skipped = skipped or row_skipped
        first, window = last + 1, window * WINDOW_GROWTH
    return [], skipped


def _search_rows(
    tx: Session, event_id: UUID, section_ids: Sequence[UUID], quantity: int, first: int, last: int
) -> tuple[list[Row], bool]:
    skipped = False
    for candidate in seat_search.rows_with_free_block(tx, event_id, section_ids, quantity, first, last):
        row_index = candidate["row_index"]
        tx.execute("SAVEPOINT best_block")
        block, _ = seat_search.lock_best_block(tx, event_id, candidate["sections"], quantity, row_index, row_index)
        if block:
            return block, skipped
        # Nothing for us in this row: give back what we locked there to the buyers choosing in it.
        tx.execute("ROLLBACK TO SAVEPOINT best_block")
        skipped = True
    return [], skipped


def _choose_block(tx: Session, event_id: UUID, sections: Sequence[Row], quantity: int) -> list[Row]:
    for pause in (*LOCKED_RETRY_PAUSES, None):
        block, skipped = _search(tx, event_id, sections, quantity)
        if block:
            return block
        if not skipped:
            largest = seat_search.largest_free_block(tx, event_id, [section["section_id"] for section in sections])
            raise Conflict(
                f"No {quantity} free seats side by side match this request.",
                code="NO_ADJACENT_SEATS",
                details={"largestBlock": largest, "quantity": quantity},
            )
        if pause is not None:
            time.sleep(pause)
    count("BestAvailableLockedOut")
    raise SeatsLocked("Every matching block is being booked by other buyers right now; retry in a second.")


def hold_best(principal: Principal, request: HoldBestRequest) -> HoldBestResult:
    settings = get_settings()
    user_id = principal.user_id
    with transaction() as tx:
        event = on_sale_event(tx, request.event_id, with_sections=True)
        sections = _eligible_sections(event, request)
        lock_buyer(tx, user_id, request.event_id)
        check_ticket_limit(tx, event, user_id, request.quantity)
        block = _choose_block(tx, request.event_id, sections, request.quantity)
        seat_ids = [seat["id"] for seat in block]
        expired_bookings = free_overdue_bookings(tx, block)
        held = holds_repo.hold_and_describe(tx, seat_ids, user_id, settings.hold_ttl_seconds)
    seats = [SeatOut.from_row(row) for row in held]
    count("HoldsPlaced", len(seat_ids))
    count("BestAvailableHolds")
    if expired_bookings:
        domain_events.publish_after_commit()
    return HoldBestResult(
        event_id=request.event_id,
        seat_ids=[seat.id for seat in seats],
        held_until=min(row["held_until"] for row in held),
        hold_ttl_seconds=settings.hold_ttl_seconds,
        seats=seats,
    )
