"""All SQL of seat holds: locking seats for a buyer, holding, extending, releasing, and the sweep of expired holds.

Locks: seat rows, always in ascending id order and, on the buyer's paths, with NOWAIT (a row another
transaction is locking right now raises SQLSTATE 55P03, which ticketing.db.errors turns into 409
SEATS_LOCKED); one advisory lock per buyer and event (`try_lock_buyer`, never waited for); the sweep takes
expired holds with SKIP LOCKED. Ids travel as `uuid[]` (CAST so that an empty list still has a type).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from ticketing.bookings.seats_sql import RELEASED_SEAT, SEAT_STATE_COLUMNS, SEAT_VIEW
from ticketing.db import Session
from ticketing.db.connection import Row


def try_lock_buyer(tx: Session, user_id: UUID, event_id: UUID) -> bool:
    """Serialises one buyer's holds for one event (the ticket limit is checked under it); never waits."""
    locked: bool = tx.value(
        "SELECT pg_try_advisory_xact_lock(hashtext(CAST(:user_id AS text)), hashtext(CAST(:event_id AS text)))",
        user_id=user_id,
        event_id=event_id,
    )
    return locked


def lock_seats(tx: Session, event_id: UUID, seat_ids: Sequence[UUID]) -> list[Row]:
    """Locks the event's seats among `seat_ids`, ascending by id, without waiting (55P03 when taken)."""
    return tx.rows(
        f"SELECT {SEAT_STATE_COLUMNS} FROM event_seats"
        " WHERE event_id = :event_id AND id = ANY(CAST(:ids AS uuid[])) ORDER BY id FOR UPDATE NOWAIT",
        event_id=event_id,
        ids=list(seat_ids),
    )


def lock_own_holds(
    tx: Session, user_id: UUID, event_id: UUID, *, seat_ids: Sequence[UUID] | None = None, live_only: bool
) -> list[Row]:
    """Locks the caller's holds that no booking owns yet (all of them for the event unless `seat_ids`)."""
    return tx.rows(
        f"SELECT {SEAT_STATE_COLUMNS} FROM event_seats"
        " WHERE event_id = :event_id AND held_by = :user_id AND status = 'HELD' AND booking_id IS NULL"
        " AND (NOT :live_only OR held_until > now())"
        " AND (CAST(:ids AS uuid[]) IS NULL OR id = ANY(CAST(:ids AS uuid[])))"
        " ORDER BY id FOR UPDATE NOWAIT",
        event_id=event_id,
        user_id=user_id,
        live_only=live_only,
        ids=None if seat_ids is None else list(seat_ids),
    )


def count_tickets(tx: Session, user_id: UUID, event_id: UUID) -> int:
    """Seats the user holds live, or has in PENDING or CONFIRMED bookings, for the event."""
    count: int = tx.value(
        "SELECT"
        " (SELECT count(*) FROM event_seats WHERE event_id = :event_id AND held_by = :user_id"
        "   AND status = 'HELD' AND booking_id IS NULL AND held_until > now())"
        " + (SELECT count(*) FROM booking_items bi JOIN bookings b ON b.id = bi.booking_id"
        "   WHERE b.user_id = :user_id AND b.event_id = :event_id AND b.status IN ('PENDING', 'CONFIRMED'))",
        user_id=user_id,
        event_id=event_id,
    )
    return count


def hold_seats(tx: Session, seat_ids: Sequence[UUID], user_id: UUID, ttl_seconds: int) -> datetime:
    """Holds the seats for the user until now + ttl; answers that moment."""
    # Fires event_seats_count_changes (migration 0007): the seat status's ETag moves.
    held_until: datetime = tx.value(
        "WITH held AS (UPDATE event_seats SET status = 'HELD', held_by = :user_id,"
        " held_until = now() + make_interval(secs => :ttl), hold_extensions = 0"
        " WHERE id = ANY(CAST(:ids AS uuid[])) RETURNING held_until) SELECT min(held_until) FROM held",
        user_id=user_id,
        ttl=ttl_seconds,
        ids=list(seat_ids),
    )
    return held_until


def release_holds(tx: Session, seat_ids: Sequence[UUID]) -> None:
    # Fires event_seats_count_changes (migration 0007).
    tx.execute(f"UPDATE event_seats SET {RELEASED_SEAT} WHERE id = ANY(CAST(:ids AS uuid[]))", ids=list(seat_ids))


def extend_holds(tx: Session, seat_ids: Sequence[UUID], ttl_seconds: int) -> datetime:
    moment: datetime = tx.value(
        "WITH extended AS ("
        " UPDATE event_seats SET held_until = now() + make_interval(secs => :ttl),"
        " hold_extensions = hold_extensions + 1 WHERE id = ANY(CAST(:ids AS uuid[])) RETURNING held_until)"
        " SELECT min(held_until) FROM extended",
        ttl=ttl_seconds,
        ids=list(seat_ids),
    )
    return moment


def extension_would_move(tx: Session, seat_ids: Sequence[UUID], ttl_seconds: int) -> bool:
    """Whether now + ttl is at least a second later than some of these seats' `held_until`."""
    moves: bool = tx.value(
        "SELECT coalesce(bool_or(held_until < now() + make_interval(secs => :ttl) - interval '1 second'), false)"
        " FROM event_seats WHERE id = ANY(CAST(:ids AS uuid[]))",
        ttl=ttl_seconds,
        ids=list(seat_ids),
    )
    return moves


def live_holds(tx: Session, user_id: UUID, event_id: UUID | None) -> list[Row]:
    """The user's live holds not yet in a booking, with what the buyer sees of each seat."""
    return tx.rows(
        "SELECT es.event_id, es.id, s.name AS section, vs.row_label AS row, vs.number, p.price, es.held_until,"
        " es.hold_extensions"
        f" FROM {SEAT_VIEW}"
        " WHERE es.held_by = :user_id AND es.status = 'HELD' AND es.booking_id IS NULL AND es.held_until > now()"
        " AND (CAST(:event_id AS uuid) IS NULL OR es.event_id = CAST(:event_id AS uuid))"
        " ORDER BY es.event_id, s.name, vs.row_index, vs.number",
        user_id=user_id,
        event_id=event_id,
    )


def seats_by_label(tx: Session, event_id: UUID, labels: Sequence[tuple[UUID, int, str, int]]) -> list[Row]:
    """Event seat ids of (section, row index, row label, number), each with its 1-based position in `labels`;
    labels that name no seat of the event are absent. One statement over the (section, row, number) index."""
    return tx.rows(
        "SELECT wanted.position, es.id FROM unnest(CAST(:sections AS uuid[]), CAST(:row_indexes AS int[]),"
        " CAST(:row_labels AS text[]), CAST(:numbers AS int[]))"
        " WITH ORDINALITY AS wanted (section_id, row_index, row_label, number, position)"
        " JOIN venue_seats vs ON vs.section_id = wanted.section_id AND vs.row_index = wanted.row_index"
        " AND vs.number = wanted.number AND vs.row_label = wanted.row_label"
        " JOIN sections s ON s.id = vs.section_id"
        # The event seat at the venue seat's place in its section (docs/seat-maps.md).
        " JOIN event_seats es ON es.event_id = :event_id AND es.section_id = vs.section_id"
        " AND es.seat_index = (vs.row_index - 1) * s.seats_per_row + vs.number - 1",
        event_id=event_id,
        sections=[label[0] for label in labels],
        row_indexes=[label[1] for label in labels],
        row_labels=[label[2] for label in labels],
        numbers=[label[3] for label in labels],
    )


def hold_and_describe(tx: Session, seat_ids: Sequence[UUID], user_id: UUID, ttl_seconds: int) -> list[Row]:
    """Holds the seats like `hold_seats` and answers what the buyer sees of each (in seat-number order) with its
    `held_until`, in one statement."""
    return tx.rows(
        "WITH held AS (UPDATE event_seats SET status = 'HELD', held_by = :user_id,"
        " held_until = now() + make_interval(secs => :ttl), hold_extensions = 0"
        " WHERE id = ANY(CAST(:ids AS uuid[])) RETURNING id, held_until)"
        " SELECT es.id, s.name AS section, vs.row_label AS row, vs.number, p.price, held.held_until"
        f" FROM {SEAT_VIEW} JOIN held ON held.id = es.id ORDER BY vs.number",
        user_id=user_id,
        ttl=ttl_seconds,
        ids=list(seat_ids),
    )


def release_expired_holds(tx: Session, limit: int) -> int:
    """Frees up to `limit` expired holds no booking owns, skipping rows live traffic is locking."""
    return tx.execute(
        f"UPDATE event_seats SET {RELEASED_SEAT} WHERE id IN ("
        " SELECT id FROM event_seats WHERE status = 'HELD' AND booking_id IS NULL AND held_until <= now()"
        " ORDER BY held_until LIMIT :limit FOR UPDATE SKIP LOCKED)",
        limit=limit,
    )
