"""All SQL of tickets and check-in.

Every write is one statement over a set (`id = ANY(:ids)`, `unnest(...)`), and every decision that must
hold under concurrency lives in the statement's WHERE clause:

- check-in is `UPDATE ... WHERE status = 'VALID'` (or an earlier offline scan than the recorded one): when
  many gates scan one ticket at the same moment, PostgreSQL's row lock queues the updates and each later
  one re-evaluates the condition against the committed row, so exactly one wins;
- a transfer is `UPDATE ... SET status = 'VOID' WHERE status = 'VALID' AND the event has not started`, so a
  transfer racing a check-in (or another transfer) has one winner too;
- a batch locks its tickets in id order first, so two batches naming the same tickets cannot deadlock.

No module here imports cryptography: the bookings code issues and voids tickets through this module.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from ticketing.db import Session
from ticketing.db.connection import Row
from ticketing.db.id_set import IdSet

# A ticket as its holder sees it (without the code, which is derived from id and event). Every ticket of a
# cancelled event is void from the moment the cancellation commits; the outbox publisher writes VOID into
# their rows right after (void_tickets_of_cancelled_event), so until then the status is read through the event.
_TICKET_VIEW = """
    SELECT t.id, t.booking_id, t.event_id, t.event_seat_id AS seat_id, s.name AS section, vs.row_label AS row,
           vs.number, u.name AS holder_name, CASE WHEN e.status = 'CANCELLED' THEN 'VOID' ELSE t.status END AS status,
           t.checked_in_at, t.holder_id, t.created_at, vs.row_index
    FROM tickets t
    JOIN events e ON e.id = t.event_id
    JOIN event_seats es ON es.id = t.event_seat_id
    JOIN venue_seats vs ON vs.id = es.venue_seat_id
    JOIN sections s ON s.id = es.section_id
    JOIN users u ON u.id = t.holder_id
"""

_STATE_COLUMNS = "id, event_id, holder_id, status, checked_in_at, check_in_scan_id"

# Revocations overlap by this much: a voiding transaction that began before a scanner's last poll but
# committed after it carries an older `voided_at` than that poll's `serverTime`.
REVOCATION_OVERLAP_SECONDS = 120


# --- issuing and voiding (called from the bookings code, inside its transactions) -----------------------


def issue_for_booking(tx: Session, booking_id: UUID) -> int:
    """One VALID ticket per seat of the booking, held by its buyer; answers how many."""
    return tx.execute(
        "INSERT INTO tickets (booking_id, event_id, event_seat_id, holder_id)"
        " SELECT b.id, b.event_id, bi.event_seat_id, b.user_id"
        " FROM bookings b JOIN booking_items bi ON bi.booking_id = b.id WHERE b.id = :booking_id",
        booking_id=booking_id,
    )


_VOID_CANCELLED = "UPDATE tickets SET status = 'VOID', voided_at = now(), void_reason = 'CANCELLED'"


def void_tickets_for_bookings(tx: Session, booking_ids: IdSet) -> int:
    """Voids every ticket of the bookings that is not void yet (transferred ones included); answers how many.

    Their ids join the event's revocation feed at once.
    """
    return tx.execute(
        f"{_VOID_CANCELLED} WHERE booking_id = ANY(CAST(:ids AS uuid[])) AND status <> 'VOID'",
        ids=booking_ids.literal,
    )


def void_tickets_of_cancelled_event(tx: Session, event_id: UUID) -> int:
    """Writes VOID into every ticket of the cancelled event that is not void yet; answers how many.

    Readers already treat them as void (the event says CANCELLED); their ids join the revocation feed now,
    whose overlap (REVOCATION_OVERLAP_SECONDS) covers a scanner that polled in between.
    """
    return tx.execute(f"{_VOID_CANCELLED} WHERE event_id = :event_id AND status <> 'VOID'", event_id=event_id)


# --- reading ------------------------------------------------------------------------------------------


def find_ticket(tx: Session, ticket_id: UUID) -> Row | None:
    return tx.row(f"{_TICKET_VIEW} WHERE t.id = :id", id=ticket_id)


def tickets_of_booking(tx: Session, booking_id: UUID, owner_id: UUID) -> list[Row]:
    """Per seat of the booking, the newest ticket its owner held (VOID when given away)."""
    return tx.rows(
        f"SELECT * FROM (SELECT DISTINCT ON (t.seat_id) * FROM ({_TICKET_VIEW}"
        "   WHERE t.booking_id = :booking_id AND t.holder_id = :owner_id) t"
        "   ORDER BY t.seat_id, t.created_at DESC) newest"
        " ORDER BY section, row_index, number",
        booking_id=booking_id,
        owner_id=owner_id,
    )


def tickets_of_holder(
    tx: Session, holder_id: UUID, event_id: UUID | None, *, limit: int, offset: int
) -> tuple[list[Row], int]:
    filters = (
        " WHERE t.holder_id = :holder_id AND (CAST(:event_id AS uuid) IS NULL OR t.event_id = CAST(:event_id AS uuid))"
    )
    params: dict[str, Any] = {"holder_id": holder_id, "event_id": event_id}
    total = int(tx.value(f"SELECT count(*) FROM tickets t{filters}", **params))
    rows = tx.rows(
        f"{_TICKET_VIEW}{filters}"
        " ORDER BY e.starts_at, t.event_id, s.name, vs.row_index, vs.number, t.created_at DESC"
        " LIMIT :limit OFFSET :offset",
        limit=limit,
        offset=offset,
        **params,
    )
    return rows, total


def ticket_states(tx: Session, ticket_ids: Sequence[UUID]) -> dict[UUID, Row]:
    if not ticket_ids:
        return {}
    rows = tx.rows(
        f"SELECT {_STATE_COLUMNS} FROM tickets WHERE id = ANY(CAST(:ids AS uuid[]))",
        ids=[str(ticket_id) for ticket_id in ticket_ids],
    )
    return {row["id"]: row for row in rows}


def check_in_counts(tx: Session, event_id: UUID) -> Row:
    row = tx.row(
        # Live tickets and void ones are in two partial indexes (migration 0012). A cancelled event's live rows
        # count as void: they are, and the outbox publisher is writing it into them (_TICKET_VIEW).
        "SELECT CASE WHEN e.status = 'CANCELLED' THEN 0 ELSE live.tickets END AS tickets,"
        " CASE WHEN e.status = 'CANCELLED' THEN 0 ELSE live.checked_in END AS checked_in,"
        " (SELECT count(*) FROM tickets WHERE event_id = :event_id AND status = 'VOID')"
        "   + CASE WHEN e.status = 'CANCELLED' THEN live.tickets ELSE 0 END AS void"
        " FROM events e, (SELECT count(*) AS tickets, count(*) FILTER (WHERE status = 'CHECKED_IN') AS checked_in"
        "   FROM tickets WHERE event_id = :event_id AND status <> 'VOID') AS live"
        " WHERE e.id = :event_id",
        event_id=event_id,
    )
    return row or {"tickets": 0, "checked_in": 0, "void": 0}


def revocations(tx: Session, event_id: UUID, since: datetime | None) -> tuple[list[Row], datetime]:
    """The event's void tickets (since `since`, with REVOCATION_OVERLAP_SECONDS of overlap) and the time now."""
    rows = tx.rows(
        "SELECT id AS ticket_id, voided_at AS revoked_at FROM tickets"
        " WHERE event_id = :event_id AND status = 'VOID'"
        " AND (CAST(:since AS timestamptz) IS NULL"
        "      OR voided_at > CAST(:since AS timestamptz) - make_interval(secs => :overlap))"
        " ORDER BY voided_at, id",
        event_id=event_id,
        since=since,
        overlap=REVOCATION_OVERLAP_SECONDS,
    )
    now: datetime = tx.value("SELECT now()")
    return rows, now


# --- check-in -----------------------------------------------------------------------------------------


def managed_event(tx: Session, event_id: UUID) -> Row | None:
    return tx.row("SELECT id, organizer_id, status, starts_at FROM events WHERE id = :id", id=event_id)


def lock_in_id_order(tx: Session, ticket_ids: Sequence[UUID]) -> None:
    """Row locks on the tickets, ascending by id, so concurrent batches over the same tickets never deadlock."""
    tx.execute(
        "SELECT 1 FROM tickets WHERE id = ANY(CAST(:ids AS uuid[])) ORDER BY id FOR UPDATE",
        ids=sorted(str(ticket_id) for ticket_id in ticket_ids),
    )


def check_in(
    tx: Session,
    event_id: UUID,
    scans: Sequence[tuple[UUID, datetime | None, str | None]],
    *,
    gate_user_id: UUID,
) -> dict[UUID, Row]:
    """Admits the scanned tickets: one conditional UPDATE for the whole set of `(ticketId, scannedAt, scanId)`.

    A scan wins when its ticket is VALID, or CHECKED_IN by a later scan than this offline one (an offline scan
    uploaded afterwards is judged at its `scannedAt`; the earliest scan of a ticket is the one recorded).
    `scannedAt` None means now: an online scan never replaces a check-in (its `now()` is its transaction's
    start, which may precede a check-in another gate committed meanwhile; the NULL comparison keeps it out).
    A `scannedAt` in the future is recorded as now (LEAST ignores NULL). At most one scan per ticket.
    Answers the winners' new state by ticket id.
    """
    rows = tx.rows(
        "UPDATE tickets t SET status = 'CHECKED_IN', checked_in_at = LEAST(s.scanned_at, now()),"
        " checked_in_by = :gate_user_id, check_in_scan_id = s.scan_id"
        " FROM unnest(CAST(:ids AS uuid[]), CAST(:scanned_at AS timestamptz[]), CAST(:scan_ids AS text[]))"
        "   AS s(ticket_id, scanned_at, scan_id)"
        " WHERE t.id = s.ticket_id AND t.event_id = :event_id"
        " AND (t.status = 'VALID' OR (t.status = 'CHECKED_IN' AND t.checked_in_at > s.scanned_at))"
        " RETURNING t.id, t.event_id, t.holder_id, t.status, t.checked_in_at, t.check_in_scan_id",
        event_id=event_id,
        gate_user_id=gate_user_id,
        ids=[str(ticket_id) for ticket_id, _, _ in scans],
        scanned_at=[None if moment is None else moment.isoformat() for _, moment, _ in scans],
        scan_ids=[scan_id for _, _, scan_id in scans],
    )
    return {row["id"]: row for row in rows}


# --- transfer -----------------------------------------------------------------------------------------


def void_for_transfer(tx: Session, ticket_id: UUID, holder_id: UUID) -> Row | None:
    """Voids the holder's VALID ticket while its event has not started and is not cancelled; None when any of
    that fails.

    The event row is locked FOR KEY SHARE: a cancellation in flight (it holds the event FOR UPDATE) is waited
    for and then seen, so no ticket is handed on after its event was cancelled.
    """
    return tx.row(
        "WITH live_event AS ("
        "   SELECT e.id FROM events e JOIN tickets t ON t.event_id = e.id"
        "   WHERE t.id = :id AND e.status <> 'CANCELLED' AND e.starts_at > now() FOR KEY SHARE OF e)"
        " UPDATE tickets t SET status = 'VOID', voided_at = now(), void_reason = 'TRANSFERRED'"
        " FROM live_event e"
        " WHERE t.id = :id AND t.holder_id = :holder_id AND t.status = 'VALID' AND e.id = t.event_id"
        " RETURNING t.id, t.booking_id, t.event_id, t.event_seat_id",
        id=ticket_id,
        holder_id=holder_id,
    )


def insert_transferred(tx: Session, voided: Row, receiver_id: UUID) -> UUID:
    new_id: UUID = tx.value(
        "INSERT INTO tickets (booking_id, event_id, event_seat_id, holder_id, transferred_from)"
        " VALUES (:booking_id, :event_id, :event_seat_id, :holder_id, :transferred_from) RETURNING id",
        booking_id=voided["booking_id"],
        event_id=voided["event_id"],
        event_seat_id=voided["event_seat_id"],
        holder_id=receiver_id,
        transferred_from=voided["id"],
    )
    return new_id
