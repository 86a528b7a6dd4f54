"""Venue rules: admins build venues and sections; anyone may browse them."""

from __future__ import annotations

from uuid import UUID

from ticketing.catalog.venues import repository as venues_repo
from ticketing.catalog.venues.models import SectionCreate, SectionOut, VenueCreate, VenueOut, VenueUpdate
from ticketing.db import Session, transaction
from ticketing.errors import NotFound
from ticketing.http.paging import page_offset
from ticketing.models import Page


def _venue_not_found() -> NotFound:
    return NotFound("No such venue.")


def _load_venue(tx: Session, venue_id: UUID) -> VenueOut:
    venue = venues_repo.find_venue(tx, venue_id)
    if venue is None:
        raise _venue_not_found()
    return VenueOut.from_rows(venue, venues_repo.sections_of(tx, [venue_id]))


def get_venue(venue_id: UUID) -> VenueOut:
    with transaction() as tx:
        return _load_venue(tx, venue_id)


def list_venues(*, city: str | None, q: str | None, page: int, page_size: int) -> Page[VenueOut]:
    with transaction() as tx:
        venues, total = venues_repo.list_venues(
            tx, city=city, q=q, limit=page_size, offset=page_offset(page, page_size)
        )
        sections = venues_repo.sections_of(tx, [venue["id"] for venue in venues])
    items = [
        VenueOut.from_rows(venue, [section for section in sections if section["venue_id"] == venue["id"]])
        for venue in venues
    ]
    return Page[VenueOut](items=items, page=page, page_size=page_size, total=total)


def create_venue(body: VenueCreate) -> VenueOut:
    with transaction() as tx:
        venue = venues_repo.insert_venue(tx, **body.model_dump())
    return VenueOut.from_rows(venue, [])


def update_venue(venue_id: UUID, body: VenueUpdate) -> VenueOut:
    with transaction() as tx:
        if venues_repo.update_venue(tx, venue_id, body.model_dump(exclude_unset=True)) is None:
            raise _venue_not_found()
        return _load_venue(tx, venue_id)


def add_section(venue_id: UUID, body: SectionCreate) -> SectionOut:
    """Adds a section with all its seats. Existing events of the venue keep the seat inventory they have."""
    with transaction() as tx:
        if venues_repo.find_venue(tx, venue_id) is None:
            raise _venue_not_found()
        section = venues_repo.insert_section_with_seats(tx, venue_id=venue_id, **body.model_dump())
    return SectionOut.from_row(section)
