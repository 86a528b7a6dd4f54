"""SQL for events, their prices (event_sections) and their seat inventory (event_seats)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from ticketing.db import Session
from ticketing.db.connection import Row

_EVENT_COLUMNS = (
    "e.id, e.venue_id, e.organizer_id, e.title, e.description, e.category, e.status, e.starts_at, e.ends_at,"
    " e.sales_start_at, e.sales_end_at, e.currency, e.max_tickets_per_user, e.version, e.published_at,"
    " e.cancelled_bookings, v.name AS venue_name, v.city AS venue_city"
)
_EVENT_FROM = "events e JOIN venues v ON v.id = e.venue_id"

# The buyer's view of a seat: a hold past its expiry that no booking protects is available again,
# whether or not the expiry job has run yet. A seat in a PENDING booking stays held until the booking ends.
# A hold past its expiry is AVAILABLE whether or not the expiry job has run. That includes the seats of a
# PENDING booking past its payment window (their held_until is the booking's expiresAt): hold-seats frees them.
EFFECTIVE_STATUS = "CASE WHEN es.status = 'HELD' AND es.held_until <= now() THEN 'AVAILABLE' ELSE es.status END"

_EDITABLE_FIELDS = (
    "venue_id",
    "title",
    "description",
    "category",
    "starts_at",
    "ends_at",
    "sales_start_at",
    "sales_end_at",
    "currency",
    "max_tickets_per_user",
)


def insert_event(tx: Session, *, organizer_id: UUID, fields: dict[str, Any]) -> UUID:
    event_id = tx.value(
        "INSERT INTO events (venue_id, organizer_id, title, description, category, starts_at, ends_at,"
        " sales_start_at, sales_end_at, currency, max_tickets_per_user)"
        " VALUES (:venue_id, :organizer_id, :title, :description, :category, :starts_at, :ends_at,"
        " :sales_start_at, :sales_end_at, :currency, :max_tickets_per_user) RETURNING id",
        organizer_id=organizer_id,
        **{name: fields[name] for name in _EDITABLE_FIELDS},
    )
    return UUID(str(event_id))


def find_event(tx: Session, event_id: UUID, *, for_update: bool = False) -> Row | None:
    lock = " FOR UPDATE OF e" if for_update else ""
    return tx.row(f"SELECT {_EVENT_COLUMNS} FROM {_EVENT_FROM} WHERE e.id = :id{lock}", id=event_id)


def update_event(tx: Session, event_id: UUID, changes: dict[str, Any]) -> None:
    """Writes the changed fields (names from _EDITABLE_FIELDS, maybe none) and bumps the version."""
    assignments = [f"{name} = :{name}" for name in _EDITABLE_FIELDS if name in changes]
    assignments += ["version = version + 1", "updated_at = now()"]
    tx.execute(
        f"UPDATE events SET {', '.join(assignments)} WHERE id = :id",
        id=event_id,
        **{name: changes[name] for name in _EDITABLE_FIELDS if name in changes},
    )


def publish(tx: Session, event_id: UUID) -> None:
    tx.execute(
        "UPDATE events SET status = 'PUBLISHED', published_at = now(), version = version + 1, updated_at = now()"
        " WHERE id = :id",
        id=event_id,
    )


def cancel(tx: Session, event_id: UUID) -> None:
    tx.execute(
        "UPDATE events SET status = 'CANCELLED', cancelled_at = now(), version = version + 1, updated_at = now()"
        " WHERE id = :id",
        id=event_id,
    )


def record_cancelled_bookings(tx: Session, event_id: UUID, bookings: int) -> None:
    tx.execute("UPDATE events SET cancelled_bookings = :bookings WHERE id = :id", id=event_id, bookings=bookings)


def release_unbooked_holds(tx: Session, event_id: UUID) -> int:
    """Frees every hold of the event that no booking protects; answers how many seats it freed."""
    return tx.execute(
        "UPDATE event_seats SET status = 'AVAILABLE', held_by = NULL, held_until = NULL, hold_extensions = 0"
        " WHERE event_id = :id AND status = 'HELD' AND booking_id IS NULL",
        id=event_id,
    )


def set_prices(tx: Session, event_id: UUID, prices: dict[UUID, int]) -> None:
    """Inserts or changes the price of each given section of the event."""
    tx.execute(
        "INSERT INTO event_sections (event_id, section_id, price)"
        " SELECT :event_id, section_id, price"
        " FROM unnest(CAST(:section_ids AS uuid[]), CAST(:prices AS bigint[])) AS p (section_id, price)"
        " ON CONFLICT (event_id, section_id) DO UPDATE SET price = EXCLUDED.price",
        event_id=event_id,
        section_ids=[str(section_id) for section_id in prices],
        prices=list(prices.values()),
    )


def add_seat_inventory(tx: Session, event_id: UUID) -> int:
    """Copies one event seat per venue seat for each priced section that has none yet: one set-based INSERT
    per section (at most 250,000 seats each), in seat order, each seat with its place in the status string."""
    missing = tx.rows(
        "SELECT p.section_id FROM event_sections p WHERE p.event_id = :event_id AND NOT EXISTS"
        " (SELECT 1 FROM event_seats x WHERE x.event_id = p.event_id AND x.section_id = p.section_id)",
        event_id=event_id,
    )
    tx.sort_in_memory()  # a 250,000-seat section in seat order is ~20 MB of sort
    # Fires event_seats_inventory_references (migration 0007): the seats' references checked per statement.
    return sum(
        tx.execute(
            "INSERT INTO event_seats (event_id, section_id, venue_seat_id, seat_index)"
            " SELECT :event_id, s.id, vs.id, (vs.row_index - 1) * s.seats_per_row + vs.number - 1"
            " FROM sections s JOIN venue_seats vs ON vs.section_id = s.id"
            " WHERE s.id = :section_id ORDER BY vs.row_index, vs.number",
            event_id=event_id,
            section_id=row["section_id"],
        )
        for row in missing
    )


def delete_seat_inventory(tx: Session, event_id: UUID) -> None:
    """Drops a draft's seats and prices (a draft has no holds or bookings), before it is rebuilt."""
    tx.execute("DELETE FROM event_seats WHERE event_id = :id", id=event_id)
    tx.execute("DELETE FROM event_sections WHERE event_id = :id", id=event_id)


def prices_of(tx: Session, event_id: UUID) -> dict[UUID, int]:
    rows = tx.rows("SELECT section_id, price FROM event_sections WHERE event_id = :id", id=event_id)
    return {row["section_id"]: row["price"] for row in rows}


def section_counts(tx: Session, event_id: UUID) -> list[Row]:
    """Each priced section of the event with its price and its seats by effective status."""
    return tx.rows(
        f"SELECT s.id, s.name, p.price,"
        f" count(*) FILTER (WHERE seat.status = 'AVAILABLE') AS available,"
        f" count(*) FILTER (WHERE seat.status = 'HELD') AS held,"
        f" count(*) FILTER (WHERE seat.status = 'BOOKED') AS booked"
        f" FROM event_sections p JOIN sections s ON s.id = p.section_id"
        f" LEFT JOIN LATERAL (SELECT {EFFECTIVE_STATUS} AS status FROM event_seats es"
        f"  WHERE es.event_id = p.event_id AND es.section_id = p.section_id) AS seat ON true"
        f" WHERE p.event_id = :id"
        f" GROUP BY s.id, s.name, p.price, s.created_at ORDER BY s.created_at, lower(s.name), s.id",
        id=event_id,
    )


def list_events(
    tx: Session,
    *,
    see_all: bool,
    viewer_id: UUID | None,
    q: str | None,
    category: str | None,
    city: str | None,
    venue_id: UUID | None,
    starts_from: datetime | None,
    starts_to: datetime | None,
    status: str | None,
    descending: bool,
    limit: int,
    offset: int,
) -> tuple[list[Row], int]:
    """One page of the events the viewer may see, by start, and how many match in all.

    Everyone sees PUBLISHED events; `viewer_id` also sees their own events in any status; `see_all` sees all.
    """
    where = (
        " WHERE (:see_all OR e.status = 'PUBLISHED' OR e.organizer_id = CAST(:viewer_id AS uuid))"
        " AND (CAST(:q AS text) IS NULL OR strpos(lower(e.title), lower(:q)) > 0"
        "  OR strpos(lower(coalesce(e.description, '')), lower(:q)) > 0)"
        " AND (CAST(:category AS text) IS NULL OR lower(e.category) = lower(:category))"
        " AND (CAST(:city AS text) IS NULL OR lower(v.city) = lower(:city))"
        " AND (CAST(:venue_id AS uuid) IS NULL OR e.venue_id = :venue_id)"
        " AND (CAST(:starts_from AS timestamptz) IS NULL OR e.starts_at >= :starts_from)"
        " AND (CAST(:starts_to AS timestamptz) IS NULL OR e.starts_at <= :starts_to)"
        " AND (CAST(:status AS text) IS NULL OR e.status = :status)"
    )
    params: dict[str, Any] = {
        "see_all": see_all,
        "viewer_id": viewer_id,
        "q": q,
        "category": category,
        "city": city,
        "venue_id": venue_id,
        "starts_from": starts_from,
        "starts_to": starts_to,
        "status": status,
    }
    total = int(tx.value(f"SELECT count(*) FROM {_EVENT_FROM}{where}", **params))
    direction = "DESC" if descending else "ASC"
    rows = tx.rows(
        f"SELECT {_EVENT_COLUMNS} FROM {_EVENT_FROM}{where}"
        f" ORDER BY e.starts_at {direction}, e.id {direction} LIMIT :limit OFFSET :offset",
        limit=limit,
        offset=offset,
        **params,
    )
    return rows, total


# Over the event's seats: how many committed statements changed them (the event_seat_changes slots kept by a
# trigger, migration 0007) and the latest hold that has run out by now. Together they name the buyer's view of
# every seat without reading the seats: with no new change, the only way that view moves is a hold expiring,
# and the expired holds are exactly those up to the latest one (one probe of event_seats_event_held_until_idx).
_SEAT_STATE_TOKEN = (
    "(SELECT coalesce(sum(changes), 0) FROM event_seat_changes WHERE event_id = :event_id) AS changes,"
    " (SELECT max(held_until) FROM event_seats"
    "  WHERE event_id = :event_id AND status = 'HELD' AND held_until <= now()) AS last_expired_hold"
)


def _state_token(row: Row) -> str:
    last_expired = row["last_expired_hold"]
    return f"{row['changes']}|{last_expired.isoformat() if last_expired is not None else '-'}"


def seat_state_token(tx: Session, event_id: UUID) -> str:
    """Changes whenever the effective status of any seat of the event changes; costs two index probes."""
    found = tx.row(f"SELECT {_SEAT_STATE_TOKEN}", event_id=event_id)
    assert found is not None
    return _state_token(found)


def seat_map_json(
    tx: Session, event_id: UUID, *, section_ids: Sequence[UUID], statuses: Sequence[str]
) -> tuple[str, str]:
    """The seat map of docs/seat-maps.md as JSON text, aggregated in PostgreSQL in one query, with its
    seat-state token (see `seat_state_token`) taken from the same snapshot.

    Sections and rows keep their venue order, seats their number; rows without a listed seat are left out.
    `counts` are over all seats of the given sections, whatever `statuses` lists.
    """
    found = tx.row(
        f"WITH seat AS ("
        f"  SELECT es.id, es.section_id, vs.row_index, vs.row_label, vs.number, {EFFECTIVE_STATUS} AS status"
        f"  FROM event_seats es JOIN venue_seats vs ON vs.id = es.venue_seat_id"
        f"  WHERE es.event_id = :event_id AND es.section_id = ANY(CAST(:section_ids AS uuid[]))"
        f"), seat_row AS MATERIALIZED ("
        f"  SELECT section_id, row_index, json_build_object('label', row_label, 'seats',"
        f"   json_agg(json_build_object('id', id, 'number', number, 'status', status) ORDER BY number)) AS doc"
        f"  FROM seat WHERE status = ANY(CAST(:statuses AS text[]))"
        f"  GROUP BY section_id, row_index, row_label"
        f") SELECT json_build_object("
        f"  'eventId', CAST(:event_id AS uuid),"
        f"  'sections', (SELECT coalesce(json_agg(json_build_object('id', s.id, 'name', s.name, 'price', p.price,"
        f"     'rows', (SELECT coalesce(json_agg(r.doc ORDER BY r.row_index), '[]')"
        f"              FROM seat_row r WHERE r.section_id = s.id))"
        f"    ORDER BY s.created_at, lower(s.name), s.id), '[]')"
        f"   FROM event_sections p JOIN sections s ON s.id = p.section_id"
        f"   WHERE p.event_id = :event_id AND p.section_id = ANY(CAST(:section_ids AS uuid[]))),"
        f"  'counts', (SELECT json_build_object("
        f"    'available', count(*) FILTER (WHERE status = 'AVAILABLE'),"
        f"    'held', count(*) FILTER (WHERE status = 'HELD'),"
        f"    'booked', count(*) FILTER (WHERE status = 'BOOKED')) FROM seat)"
        f")::text AS document,"
        f" {_SEAT_STATE_TOKEN}",
        event_id=event_id,
        section_ids=[str(section_id) for section_id in section_ids],
        statuses=list(statuses),
    )
    assert found is not None
    return str(found["document"]), _state_token(found)


def seat_status_json(tx: Session, event_id: UUID, *, section_ids: Sequence[UUID]) -> tuple[str, str]:
    """The compact live status (docs/seat-maps.md) as JSON text, built in PostgreSQL by one ordered read of the
    event's seats, with its seat-state token (see `seat_state_token`) from the same snapshot.

    Each section's `seats` has one letter per seat (the first of its effective status) in `seat_index` order.
    """
    # The seats come in (section, seat_index) order straight from event_seats_section_seat_idx, and the
    # aggregate takes them in that order: PostgreSQL 15 would sort again for `string_agg(... ORDER BY ...)`
    # (presorted ordered aggregates came in 16), about 30 ms per 100,000 seats. Tests pin the order.
    found = tx.row(
        f"WITH seat AS ("
        f"  SELECT es.section_id, {EFFECTIVE_STATUS} AS status FROM event_seats es"
        f"  WHERE es.event_id = :event_id AND es.section_id = ANY(CAST(:section_ids AS uuid[]))"
        f"  ORDER BY es.section_id, es.seat_index"
        f"), section_seat AS ("
        f"  SELECT section_id, string_agg(left(status, 1), '') AS letters,"
        f"   count(*) FILTER (WHERE status = 'AVAILABLE') AS available,"
        f"   count(*) FILTER (WHERE status = 'HELD') AS held,"
        f"   count(*) FILTER (WHERE status = 'BOOKED') AS booked"
        f"  FROM seat GROUP BY section_id"
        f") SELECT json_build_object("
        f"  'eventId', CAST(:event_id AS uuid),"
        f"  'serverTime', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
        f"  'sections', (SELECT coalesce(json_agg(json_build_object('id', s.id, 'name', s.name, 'price', p.price,"
        f"     'rows', s.rows, 'seatsPerRow', s.seats_per_row,"
        f"     'rowLabels', (SELECT json_agg(seat_row_label(i) ORDER BY i) FROM generate_series(1, s.rows) AS i),"
        f"     'seats', coalesce(ss.letters, ''))"
        f"    ORDER BY s.created_at, lower(s.name), s.id), '[]')"
        f"   FROM event_sections p JOIN sections s ON s.id = p.section_id"
        f"   LEFT JOIN section_seat ss ON ss.section_id = s.id"
        f"   WHERE p.event_id = :event_id AND p.section_id = ANY(CAST(:section_ids AS uuid[]))),"
        f"  'counts', (SELECT json_build_object("
        f"    'available', coalesce(sum(available), 0), 'held', coalesce(sum(held), 0),"
        f"    'booked', coalesce(sum(booked), 0)) FROM section_seat)"
        f")::text AS document, {_SEAT_STATE_TOKEN}",
        event_id=event_id,
        section_ids=[str(section_id) for section_id in section_ids],
    )
    assert found is not None
    return str(found["document"]), _state_token(found)


# --- the buying path's read of an event --------------------------------------------------------------

# What holds, bookings and payments need of an event, with its `on_sale` flag computed by the database's clock.
_SALE_STATE_COLUMNS = """
    id, status, currency, max_tickets_per_user, starts_at,
    COALESCE(status = 'PUBLISHED'
             AND now() >= COALESCE(sales_start_at, published_at)
             AND now() < COALESCE(sales_end_at, starts_at)
             AND now() < starts_at, false) AS on_sale
"""


# The event's sections with their price and geometry, in venue order, as one JSON column.
_SALE_SECTIONS_JSON = """
    (SELECT coalesce(json_agg(json_build_object('section_id', p.section_id, 'price', p.price, 'rows', s.rows,
      'seats_per_row', s.seats_per_row) ORDER BY s.created_at, lower(s.name), s.id), '[]')
     FROM event_sections p JOIN sections s ON s.id = p.section_id WHERE p.event_id = events.id) AS sections
"""


def sale_state(tx: Session, event_id: UUID, *, share_lock: bool = False, with_sections: bool = False) -> Row | None:
    """The event with its `on_sale` flag (docs/api.md). `share_lock` keeps its status from changing until commit;
    `with_sections` adds `sections` (see `event_sections`) in the same statement."""
    lock = " FOR SHARE" if share_lock else ""
    sections = f", {_SALE_SECTIONS_JSON}" if with_sections else ""
    return tx.row(f"SELECT {_SALE_STATE_COLUMNS}{sections} FROM events WHERE id = :id{lock}", id=event_id)
