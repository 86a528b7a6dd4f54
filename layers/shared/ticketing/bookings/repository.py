"""All SQL of holds and bookings (payments have their own: ticketing.payments.repository).

Seat rows are always locked in ascending id order and, on the buyer's paths, with NOWAIT: a row another
transaction is locking right now raises SQLSTATE 55P03, which ticketing.db.errors turns into 409
SEATS_LOCKED. Ids travel as `uuid[]` (CAST so that an empty list still has a type).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from ticketing.db import Session
from ticketing.db.connection import Row
from ticketing.db.id_set import IdSet
from ticketing.payments.repository import BOOKING_HAS_PAYMENT_IN_FLIGHT

_EVENT_COLUMNS = """
    id, status, currency, max_tickets_per_user, starts_at,
    COALESCE(status = 'PUBLISHED'
             AND now() >= COALESCE(sales_start_at, published_at)
             AND now() < COALESCE(sales_end_at, starts_at)
             AND now() < starts_at, false) AS on_sale
"""

_SEAT_STATE_COLUMNS = """
    id, status, held_by, held_until, booking_id, hold_extensions,
    (status = 'HELD' AND booking_id IS NULL AND held_until > now()) AS live_hold
"""

# A seat as the buyer sees it: section name, row label, number and this event's price.
_SEAT_VIEW = """
    event_seats es
    JOIN venue_seats vs ON vs.id = es.venue_seat_id
    JOIN sections s ON s.id = es.section_id
    JOIN event_sections p ON p.event_id = es.event_id AND p.section_id = es.section_id
"""

_BOOKING_COLUMNS = """
    id, user_id, event_id, status, subtotal, discount, total, currency, coupon_code, expires_at, version,
    created_at, confirmed_at, cancelled_at, (expires_at <= now()) AS past_expiry
"""

_RELEASED_SEAT = "status = 'AVAILABLE', held_by = NULL, held_until = NULL, hold_extensions = 0"


def database_now(tx: Session) -> datetime:
    moment: datetime = tx.value("SELECT now()")
    return moment


# --- events -------------------------------------------------------------------------------------------


# The event's sections with their price and geometry, in venue order, as one JSON column.
_EVENT_SECTIONS_JSON = """
    (SELECT coalesce(json_agg(json_build_object('section_id', p.section_id, 'price', p.price, 'rows', s.rows,
      'seats_per_row', s.seats_per_row) ORDER BY s.created_at, lower(s.name), s.id), '[]')
     FROM event_sections p JOIN sections s ON s.id = p.section_id WHERE p.event_id = events.id) AS sections
"""


def find_event(tx: Session, event_id: UUID, *, share_lock: bool = False, with_sections: bool = False) -> Row | None:
    """The event with its `on_sale` flag (docs/api.md). `share_lock` keeps its status from changing until commit;
    `with_sections` adds `sections` (see `event_sections`) in the same statement."""
    lock = " FOR SHARE" if share_lock else ""
    sections = f", {_EVENT_SECTIONS_JSON}" if with_sections else ""
    return tx.row(f"SELECT {_EVENT_COLUMNS}{sections} FROM events WHERE id = :id{lock}", id=event_id)


# --- holds --------------------------------------------------------------------------------------------


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
        f"SELECT {_SEAT_STATE_COLUMNS} FROM event_seats"
        " WHERE event_id = :event_id AND id = ANY(CAST(:ids AS uuid[])) ORDER BY id FOR UPDATE NOWAIT",
        event_id=event_id,
        ids=list(seat_ids),
    )


def lock_own_holds(
    tx: Session, user_id: UUID, event_id: UUID, *, seat_ids: Sequence[UUID] | None = None, live_only: bool
) -> list[Row]:
    """Locks the caller's holds that no booking owns yet (all of them for the event unless `seat_ids`)."""
    return tx.rows(
        f"SELECT {_SEAT_STATE_COLUMNS} FROM event_seats"
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
    tx.execute(f"UPDATE event_seats SET {_RELEASED_SEAT} WHERE id = ANY(CAST(:ids AS uuid[]))", ids=list(seat_ids))


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
        f" FROM {_SEAT_VIEW}"
        " WHERE es.held_by = :user_id AND es.status = 'HELD' AND es.booking_id IS NULL AND es.held_until > now()"
        " AND (CAST(:event_id AS uuid) IS NULL OR es.event_id = CAST(:event_id AS uuid))"
        " ORDER BY es.event_id, s.name, vs.row_index, vs.number",
        user_id=user_id,
        event_id=event_id,
    )


# --- best available (docs/best-available.md) -----------------------------------------------------------

# Free for a new hold: available, or held by a hold that has run out (a PENDING booking past its payment
# window included: its seats' `held_until` is the booking's `expiresAt`), whether or not the job has run.
_FREE_FOR_HOLD = "(es.status = 'AVAILABLE' OR (es.status = 'HELD' AND es.held_until <= now()))"

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
          AND {_FREE_FOR_HOLD} OFFSET 0
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
        f"  WHERE {_FREE_FOR_HOLD} ORDER BY cs.rank, cs.number LIMIT :quantity"
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
        f" FROM {_SEAT_VIEW} JOIN held ON held.id = es.id ORDER BY vs.number",
        user_id=user_id,
        ttl=ttl_seconds,
        ids=list(seat_ids),
    )


def release_expired_holds(tx: Session, limit: int) -> int:
    """Frees up to `limit` expired holds no booking owns, skipping rows live traffic is locking."""
    return tx.execute(
        f"UPDATE event_seats SET {_RELEASED_SEAT} WHERE id IN ("
        " SELECT id FROM event_seats WHERE status = 'HELD' AND booking_id IS NULL AND held_until <= now()"
        " ORDER BY held_until LIMIT :limit FOR UPDATE SKIP LOCKED)",
        limit=limit,
    )


# --- bookings -----------------------------------------------------------------------------------------


def seat_prices(tx: Session, seat_ids: Sequence[UUID]) -> list[Row]:
    return tx.rows(
        f"SELECT es.id, p.price FROM {_SEAT_VIEW} WHERE es.id = ANY(CAST(:ids AS uuid[])) ORDER BY es.id",
        ids=list(seat_ids),
    )


def insert_booking(
    tx: Session,
    *,
    user_id: UUID,
    event_id: UUID,
    subtotal: int,
    discount: int,
    currency: str,
    coupon_id: UUID | None,
    coupon_code: str | None,
    ttl_seconds: int,
) -> Row:
    row = tx.row(
        "INSERT INTO bookings (user_id, event_id, subtotal, discount, total, currency, coupon_id, coupon_code,"
        " expires_at)"
        " VALUES (:user_id, :event_id, :subtotal, :discount, :total, :currency, :coupon_id,"
        " :coupon_code, now() + make_interval(secs => :ttl))"
        f" RETURNING {_BOOKING_COLUMNS}",
        user_id=user_id,
        event_id=event_id,
        subtotal=subtotal,
        discount=discount,
        total=subtotal - discount,
        currency=currency,
        coupon_id=coupon_id,
        coupon_code=coupon_code,
        ttl=ttl_seconds,
    )
    assert row is not None
    return row


def insert_items(tx: Session, booking_id: UUID, seat_ids: Sequence[UUID]) -> None:
    """Adds the seats as items at this event's section prices."""
    tx.execute(
        "INSERT INTO booking_items (booking_id, booking_status, event_seat_id, price)"
        f" SELECT :booking_id, 'PENDING', es.id, p.price FROM {_SEAT_VIEW} WHERE es.id = ANY(CAST(:ids AS uuid[]))",
        booking_id=booking_id,
        ids=list(seat_ids),
    )


def attach_seats(tx: Session, booking_id: UUID, seat_ids: Sequence[UUID], held_until: datetime) -> None:
    """The seats stay HELD, now for the booking, until it expires."""
    tx.execute(
        "UPDATE event_seats SET booking_id = :booking_id, booking_status = 'PENDING', held_until = :held_until"
        " WHERE id = ANY(CAST(:ids AS uuid[]))",
        booking_id=booking_id,
        held_until=held_until,
        ids=list(seat_ids),
    )


def find_booking(tx: Session, booking_id: UUID, *, for_update: bool = False) -> Row | None:
    lock = " FOR UPDATE" if for_update else ""
    return tx.row(f"SELECT {_BOOKING_COLUMNS} FROM bookings WHERE id = :id{lock}", id=booking_id)


def confirm_booking(tx: Session, booking_id: UUID, version: int, *, allow_past_expiry: bool = False) -> Row | None:
    """The optimistic confirm (docs/booking-lifecycle.md): only the expected, still PENDING version moves on, and
    only while unexpired unless `allow_past_expiry` (its payment was in flight, which holds the window open)."""
    return tx.row(
        "UPDATE bookings SET status = 'CONFIRMED', version = version + 1, confirmed_at = now(), updated_at = now()"
        " WHERE id = :id AND version = :version AND status = 'PENDING' AND (expires_at > now() OR :past_expiry)"
        f" RETURNING {_BOOKING_COLUMNS}",
        id=booking_id,
        version=version,
        past_expiry=allow_past_expiry,
    )


def mark_seats_booked(tx: Session, booking_id: UUID) -> None:
    tx.execute(
        "UPDATE event_seats SET status = 'BOOKED', held_until = NULL WHERE booking_id = :booking_id",
        booking_id=booking_id,
    )


def close_bookings(tx: Session, booking_ids: IdSet, *, status: str, reason: str | None) -> int:
    """Moves PENDING or CONFIRMED bookings to CANCELLED or EXPIRED (version + 1), freeing their seats first;
    answers how many moved. Two statements, whatever the number of bookings.

    The seats go first: the database copies the bookings' new status into the `booking_status` of their
    items and attached seats (one statement-level trigger, migration 0006), and a seat's copy may only be
    that of a live booking.
    """
    ids = booking_ids.literal
    tx.execute(
        f"UPDATE event_seats SET {_RELEASED_SEAT}, booking_id = NULL, booking_status = NULL"
        " WHERE booking_id = ANY(CAST(:ids AS uuid[]))",
        ids=ids,
    )
    return tx.execute(
        "UPDATE bookings SET status = :status, version = version + 1, updated_at = now(),"
        " cancelled_at = CASE WHEN :status = 'CANCELLED' THEN now() END,"
        " expired_at = CASE WHEN :status = 'EXPIRED' THEN now() END,"
        " cancel_reason = :reason"
        " WHERE id = ANY(CAST(:ids AS uuid[])) AND status IN ('PENDING', 'CONFIRMED')",
        status=status,
        reason=reason,
        ids=ids,
    )


# A booking's domain event payload, built from the booking (alias b) as it is now; closing.booking_payload builds
# the same shape in Python.
_BOOKING_EVENT_PAYLOAD = (
    "jsonb_build_object('bookingId', b.id, 'userId', b.user_id, 'eventId', b.event_id, 'status', b.status,"
    " 'total', b.total, 'currency', b.currency, 'reason', CAST(:reason AS text))"
)


def record_booking_events(tx: Session, booking_ids: IdSet, *, event_type: str, reason: str | None) -> int:
    """One outbox domain event per booking (one statement)."""
    return tx.execute(
        f"INSERT INTO outbox_events (event_type, payload) SELECT :event_type, {_BOOKING_EVENT_PAYLOAD}"
        " FROM bookings b WHERE b.id = ANY(CAST(:ids AS uuid[]))",
        event_type=event_type,
        reason=reason,
        ids=booking_ids.literal,
    )


def record_events_of_bookings_cancelled_with_event(tx: Session, event_id: UUID, *, event_type: str, reason: str) -> int:
    """One outbox domain event per booking the event's cancellation cancelled (one statement): those cancelled
    with its reason at the very moment the event was (both the cancelling transaction's `now()`), so a booking
    the customer cancelled earlier, which has its own event already, is not among them."""
    return tx.execute(
        f"INSERT INTO outbox_events (event_type, payload) SELECT :event_type, {_BOOKING_EVENT_PAYLOAD}"
        " FROM bookings b JOIN events e ON e.id = b.event_id"
        " WHERE b.event_id = :event_id AND b.status = 'CANCELLED' AND b.cancel_reason = :reason"
        " AND b.cancelled_at = e.cancelled_at",
        event_type=event_type,
        reason=reason,
        event_id=event_id,
    )


def lock_expired_bookings(tx: Session, limit: int) -> list[Row]:
    """PENDING bookings past their expiry, skipping any a confirm or cancel is working on right now and any whose
    payment is in flight (the reconciliation settles it first, docs/payments.md)."""
    return tx.rows(
        # payable_until is expires_at while PENDING (migration 0014): the expiry queue's index.
        f"SELECT {_BOOKING_COLUMNS} FROM bookings b WHERE payable_until <= now() AND status = 'PENDING'"
        f" AND NOT {BOOKING_HAS_PAYMENT_IN_FLIGHT}"
        " ORDER BY payable_until LIMIT :limit FOR UPDATE SKIP LOCKED",
        limit=limit,
    )


def lock_overdue_bookings(tx: Session, booking_ids: Sequence[UUID]) -> list[Row]:
    """Those of `booking_ids` that are PENDING past their expiry and have no payment in flight, locked without
    waiting (55P03 when taken)."""
    return tx.rows(
        f"SELECT {_BOOKING_COLUMNS} FROM bookings b"
        " WHERE id = ANY(CAST(:ids AS uuid[])) AND status = 'PENDING' AND expires_at <= now()"
        f" AND NOT {BOOKING_HAS_PAYMENT_IN_FLIGHT}"
        " ORDER BY id FOR UPDATE NOWAIT",
        ids=list(booking_ids),
    )


def lock_live_booking_ids_of_event(tx: Session, event_id: UUID) -> IdSet:
    """Locks every PENDING and CONFIRMED booking of the event, in id order, waiting for a change in flight.

    Answers their ids as one value (an array literal), however many there are.
    """
    row = tx.row(
        "SELECT CAST(array_agg(id ORDER BY id) AS text) AS ids, count(*) AS n FROM ("
        " SELECT id FROM bookings WHERE event_id = :event_id AND status IN ('PENDING', 'CONFIRMED')"
        " ORDER BY id FOR UPDATE) AS locked",
        event_id=event_id,
    )
    return IdSet.from_sql(row["ids"] if row else None, row["n"] if row else 0)


def items_of(tx: Session, booking_ids: Sequence[UUID]) -> list[Row]:
    return tx.rows(
        "SELECT bi.booking_id, es.id AS seat_id, s.name AS section, vs.row_label AS row, vs.number, bi.price"
        " FROM booking_items bi JOIN event_seats es ON es.id = bi.event_seat_id"
        " JOIN venue_seats vs ON vs.id = es.venue_seat_id JOIN sections s ON s.id = es.section_id"
        " WHERE bi.booking_id = ANY(CAST(:ids AS uuid[])) ORDER BY s.name, vs.row_index, vs.number",
        ids=list(booking_ids),
    )


def list_bookings(
    tx: Session, *, user_id: UUID, status: str | None, event_id: UUID | None, limit: int, offset: int
) -> tuple[list[Row], int]:
    filters = (
        " WHERE user_id = :user_id AND (CAST(:status AS text) IS NULL OR status = :status)"
        " AND (CAST(:event_id AS uuid) IS NULL OR event_id = CAST(:event_id AS uuid))"
    )
    params: dict[str, Any] = {"user_id": user_id, "status": status, "event_id": event_id}
    total: int = tx.value(f"SELECT count(*) FROM bookings{filters}", **params)
    rows = tx.rows(
        f"SELECT {_BOOKING_COLUMNS} FROM bookings{filters} ORDER BY created_at DESC, id LIMIT :limit OFFSET :offset",
        limit=limit,
        offset=offset,
        **params,
    )
    return rows, total
