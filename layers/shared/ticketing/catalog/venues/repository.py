"""SQL for venues, sections and venue seats."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from ticketing.db import Session
from ticketing.db.connection import Row

_VENUE_COLUMNS = "id, name, address, city, country, timezone"
_SECTION_COLUMNS = "id, venue_id, name, rows, seats_per_row, default_price"
# Creation order, so a venue's sections keep the order an admin built them in.
_SECTION_ORDER = "created_at, lower(name), id"


def insert_venue(tx: Session, *, name: str, address: str, city: str, country: str, timezone: str) -> Row:
    row = tx.row(
        f"INSERT INTO venues (name, address, city, country, timezone)"
        f" VALUES (:name, :address, :city, :country, :timezone) RETURNING {_VENUE_COLUMNS}",
        name=name,
        address=address,
        city=city,
        country=country,
        timezone=timezone,
    )
    assert row is not None
    return row


def find_venue(tx: Session, venue_id: UUID) -> Row | None:
    return tx.row(f"SELECT {_VENUE_COLUMNS} FROM venues WHERE id = :id", id=venue_id)


def update_venue(tx: Session, venue_id: UUID, changes: dict[str, str]) -> Row | None:
    return tx.row(
        f"UPDATE venues SET"
        f" name = COALESCE(:name, name), address = COALESCE(:address, address), city = COALESCE(:city, city),"
        f" country = COALESCE(:country, country), timezone = COALESCE(:timezone, timezone), updated_at = now()"
        f" WHERE id = :id RETURNING {_VENUE_COLUMNS}",
        id=venue_id,
        name=changes.get("name"),
        address=changes.get("address"),
        city=changes.get("city"),
        country=changes.get("country"),
        timezone=changes.get("timezone"),
    )


_VENUE_FILTER = (
    " WHERE (CAST(:city AS text) IS NULL OR lower(city) = lower(:city))"
    " AND (CAST(:q AS text) IS NULL OR strpos(lower(name), lower(:q)) > 0"
    " OR strpos(lower(address), lower(:q)) > 0)"
)


def list_venues(tx: Session, *, city: str | None, q: str | None, limit: int, offset: int) -> tuple[list[Row], int]:
    """One page of venues by name, and how many match in all."""
    total = int(tx.value(f"SELECT count(*) FROM venues{_VENUE_FILTER}", city=city, q=q))
    rows = tx.rows(
        f"SELECT {_VENUE_COLUMNS} FROM venues{_VENUE_FILTER} ORDER BY lower(name), id LIMIT :limit OFFSET :offset",
        city=city,
        q=q,
        limit=limit,
        offset=offset,
    )
    return rows, total


def sections_of(tx: Session, venue_ids: Sequence[UUID]) -> list[Row]:
    """The sections of these venues, each venue's in creation order."""
    if not venue_ids:
        return []
    return tx.rows(
        f"SELECT {_SECTION_COLUMNS} FROM sections WHERE venue_id = ANY(CAST(:ids AS uuid[]))"
        f" ORDER BY venue_id, {_SECTION_ORDER}",
        ids=[str(venue_id) for venue_id in venue_ids],
    )


def insert_section_with_seats(
    tx: Session, *, venue_id: UUID, name: str, rows: int, seats_per_row: int, default_price: int | None
) -> Row:
    """Inserts the section and all its seats in one statement, set-based (up to 250,000 seats).

    Row labels come from seat_row_label() (migration 0003): A..Z, AA, AB, ...
    """
    row = tx.row(
        f"WITH section AS ("
        f"  INSERT INTO sections (venue_id, name, rows, seats_per_row, default_price)"
        f"  VALUES (:venue_id, :name, :rows, :seats_per_row, :default_price) RETURNING {_SECTION_COLUMNS}"
        f"), seats AS ("
        f"  INSERT INTO venue_seats (section_id, row_index, row_label, number)"
        f"  SELECT section.id, seat_row.row_index, seat_row.label, seat_number"
        f"  FROM section,"
        f"   LATERAL (SELECT row_index, seat_row_label(row_index) AS label"
        f"            FROM generate_series(1, section.rows) AS row_index) AS seat_row,"
        f"   generate_series(1, section.seats_per_row) AS seat_number"
        f") SELECT * FROM section",
        venue_id=venue_id,
        name=name,
        rows=rows,
        seats_per_row=seats_per_row,
        default_price=default_price,
    )
    assert row is not None
    return row
