"""All SQL of the best-available search (docs/best-available.md): rows with a free block of the wanted size,
the best block of each, and locking it.

Locks: the chosen block's seat rows, `FOR UPDATE SKIP LOCKED`: rows other buyers are locking are skipped, never
waited for, so concurrent searches get distinct seats. Everything else here only reads.
"""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from ticketing.bookings.seats_sql import FREE_FOR_HOLD
from ticketing.db import Session
from ticketing.db.connection import Row

# The event's free seats in rows [:first_row, :last_row] (NULL: to the section's last row) of some sections, as
# `vs` (id, status, booking_id, section_id, row_index, number): per section, one range of the unique (event_id,
# section_id, seat_index) index, whose order is row by row, then by number (docs/seat-maps.md), so the cost
# follows the rows read, not the size of the event. OFFSET 0 keeps each section's range a range scan; the free
# filter sits inside, so a locking clause over these seats locks free seats only, never a seat someone else
# holds or bought.
_FREE_ROW_SEATS = f"""
    sections vs_section
    CROSS JOIN LATERAL (
        SELECT es.id, es.status, es.booking_id, es.section_id,
               es.seat_index / vs_section.seats_per_row + 1 AS row_index,
               es.seat_index % vs_section.seats_per_row + 1 AS number
        FROM event_seats es
        WHERE es.event_id = :event_id AND es.section_id = vs_section.id
          AND es.seat_index BETWEEN (:first_row - 1) * vs_section.seats_per_row
                                AND COALESCE(CAST(:last_row AS integer), vs_section.rows) * vs_section.seats_per_row - 1
          AND {FREE_FOR_HOLD} OFFSET 0
    ) vs
    WHERE vs_section.id = ANY(CAST(:sections AS uuid[]))
"""

# Gaps and islands: consecutive free seat numbers in a row share `number - row_number()`.
_ISLAND = "vs.number - row_number() OVER (PARTITION BY vs.section_id, vs.row_index ORDER BY vs.number)"


def event_sections(tx: Session, event_id: UUID) -> list[Row]:
    """The event's sections with their price and geometry, in venue order."""
    return tx.rows(
        "SELECT p.section_id, p.price, s.rows, s.seats_per_row FROM event_sections p"
        " JOIN sections s ON s.id = p.section_id WHERE p.event_id = :event_id"
        " ORDER BY s.created_at, lower(s.name), s.id",
        event_id=event_id,
    )


def rows_with_free_block(
    tx: Session, event_id: UUID, sections: Sequence[UUID], quantity: int, first_row: int, last_row: int
) -> list[Row]:
    """Row indexes in [first_row, last_row] where some section has `quantity` free seats side by side, front
    first, each with those sections. A plain read: it only says where to look (locks decide)."""
    return tx.rows(
        "SELECT row_index, array_agg(DISTINCT section_id) AS sections FROM ("
        "  SELECT section_id, row_index FROM ("
        f"    SELECT vs.section_id, vs.row_index, {_ISLAND} AS island FROM {_FREE_ROW_SEATS}"
        "  ) free GROUP BY section_id, row_index, island HAVING count(*) >= :quantity"
        ") blocks GROUP BY row_index ORDER BY row_index",
        event_id=event_id,
        sections=list(sections),
        quantity=quantity,
        first_row=first_row,
        last_row=last_row,
    )


def _block_order(run: str, seats_per_row: str) -> str:
    """How good a block of :quantity seats at `start` in run `run` (first, last) of a row of `seats_per_row` is:
    one that strands no single seat (between the block and a taken seat or the row's end), then the one nearest
    the row's centre (offsets doubled, so half seats stay integers)."""
    return (
        f"(start - {run}.first = 1 OR {run}.last - start - :quantity + 1 = 1),"
        f" abs(2 * start + :quantity - 1 - ({seats_per_row} + 1))"
    )


# How many of the best non-overlapping blocks one statement considers: a buyer locks the first of them that
# no other transaction is locking, so this many buyers at once can each get a block in one statement.
BEST_BLOCK_CANDIDATES = 16


def lock_best_block(
    tx: Session, event_id: UUID, sections: Sequence[UUID], quantity: int, first_row: int, last_row: int
) -> tuple[list[Row], int]:
    """The best block of `quantity` free seats in rows [first_row, last_row] of `sections`, locked; and how
    many candidate blocks there were (0: no free block in these rows at all).

    Best: the row nearest the front; then a block that leaves no single free seat stranded (one free seat
    between the block and a taken seat or the row's end); then the block whose centre is nearest the row's
    centre (offsets doubled so half seats stay integers); then venue order and the lower seat number.

    The rows' runs of free seats are read; each run offers its best block and the blocks beside it that do
    not overlap it (a grid of `quantity` from the best start), so concurrent buyers have distinct blocks to
    fall back on. A run's best start is among its two ends and the five starts around the row's centre (the
    nearest start to the centre that strands no seat is at most two away from it, or an end), so only the grid
    is generated, not every start. Walking the BEST_BLOCK_CANDIDATES best of those in order, `quantity` free
    seats are locked with SKIP LOCKED (a seat another transaction is locking right now is skipped, never waited
    for): the first candidate no one else is taking gets locked whole, and it is the answer.
    """
    rows = tx.rows(
        "WITH free AS ("
        "  SELECT vs.id, vs.status, vs.booking_id, vs.section_id, vs.row_index, vs.number,"
        f"   {_ISLAND} AS island"
        f"  FROM {_FREE_ROW_SEATS}"
        "), runs AS ("
        "  SELECT section_id, row_index, min(number) AS first, max(number) AS last FROM free"
        "  GROUP BY section_id, row_index, island HAVING count(*) >= :quantity"
        "), anchored AS ("
        "  SELECT r.section_id, r.row_index, r.first, r.last, s.seats_per_row, s.created_at, lower(s.name) AS name,"
        "   s.id AS sid, best.anchor - (best.anchor - r.first) / :quantity * :quantity AS grid_start"
        "  FROM runs r JOIN sections s ON s.id = r.section_id"
        "  CROSS JOIN LATERAL (SELECT (s.seats_per_row + 2 - :quantity) / 2 AS centre) AS middle"
        "  CROSS JOIN LATERAL (SELECT start AS anchor FROM unnest(ARRAY[r.first, r.last - :quantity + 1,"
        "   centre - 2, centre - 1, centre, centre + 1, centre + 2]) AS start"
        "   WHERE start BETWEEN r.first AND r.last - :quantity + 1"
        f"   ORDER BY {_block_order('r', 's.seats_per_row')}, start LIMIT 1) AS best"
        "), ranked AS ("
        "  SELECT a.section_id, a.row_index, start, row_number() OVER ("
        f"   ORDER BY a.row_index, {_block_order('a', 'a.seats_per_row')}, a.created_at, a.name, a.sid, start) AS rank"
        "  FROM anchored a CROSS JOIN LATERAL generate_series(a.grid_start, a.last - :quantity + 1, :quantity) AS start"
        "), candidate_seats AS ("
        "  SELECT c.rank, f.id, f.status, f.booking_id, f.section_id, f.number FROM ranked c JOIN free f"
        "   ON f.section_id = c.section_id AND f.row_index = c.row_index"
        "   AND f.number BETWEEN c.start AND c.start + :quantity - 1"
        "  WHERE c.rank <= :candidates"
        "), locked AS ("
        "  SELECT es.id FROM candidate_seats cs JOIN event_seats es ON es.id = cs.id"
        f"  WHERE {FREE_FOR_HOLD} ORDER BY cs.rank, cs.number LIMIT :quantity"
        "  FOR UPDATE OF es SKIP LOCKED"
        "), best AS ("
        "  SELECT cs.rank FROM candidate_seats cs JOIN locked l ON l.id = cs.id"
        "  GROUP BY cs.rank HAVING count(*) = :quantity"
        ")"
        " SELECT cs.id, cs.status, cs.booking_id, cs.section_id, (SELECT count(*) FROM ranked) AS candidates"
        " FROM best b JOIN candidate_seats cs ON cs.rank = b.rank"
        " UNION ALL SELECT NULL, NULL, NULL, NULL, (SELECT count(*) FROM ranked) WHERE NOT EXISTS (SELECT FROM best)",
        event_id=event_id,
        sections=list(sections),
        first_row=first_row,
        last_row=last_row,
        quantity=quantity,
        candidates=BEST_BLOCK_CANDIDATES,
    )
    candidates = int(rows[0]["candidates"]) if rows else 0
    return [row for row in rows if row["id"] is not None], candidates


def largest_free_block(tx: Session, event_id: UUID, sections: Sequence[UUID]) -> int:
    """The most free seats side by side in one row of `sections` (the refusal's `largestBlock`)."""
    largest: int = tx.value(
        "SELECT coalesce(max(size), 0) FROM ("
        "  SELECT count(*) AS size FROM ("
        f"    SELECT vs.section_id, vs.row_index, {_ISLAND} AS island FROM {_FREE_ROW_SEATS}"
        "  ) free GROUP BY section_id, row_index, island"
        ") blocks",
        event_id=event_id,
        sections=list(sections),
        first_row=1,
        last_row=None,
    )
    return largest
