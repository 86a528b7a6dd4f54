"""VenuesFunction: /api/venues/* (browse venues; admins create venues and sections)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from aws_lambda_powertools.event_handler.openapi.params import Query

from ticketing.catalog.venues import service
from ticketing.catalog.venues.models import SectionCreate, SectionOut, VenueCreate, VenueOut, VenueUpdate
from ticketing.http.operations import answers
from ticketing.http.paging import PageNumber, PageSize
from ticketing.http.resolver import create_resolver, lambda_entrypoint
from ticketing.http.security import Admin
from ticketing.http.tags import ApiTag
from ticketing.models import Page

app = create_resolver(tag=ApiTag.VENUES)

SearchText = Annotated[str | None, Query(max_length=200, description="case-insensitive part of name or address")]
CityFilter = Annotated[str | None, Query(max_length=120, description="city, case-insensitive")]


@app.get("/api/venues", summary="Browse venues")
def list_venues(
    city: CityFilter = None, q: SearchText = None, page: PageNumber = 1, page_size: PageSize = 20
) -> Page[VenueOut]:
    """Public. Filters are case-insensitive; `q` matches part of the name or address."""
    return service.list_venues(city=city, q=q, page=page, page_size=page_size)


@app.get("/api/venues/<venue_id>", summary="A venue with its sections")
@answers(VenueOut, errors={404: ["NOT_FOUND"]})
def get_venue(venue_id: UUID) -> VenueOut:
    """Public: the venue, its sections in order and its capacity."""
    return service.get_venue(venue_id)


@app.post("/api/venues", summary="Create a venue (ADMIN)", status_code=201)
def create_venue(body: VenueCreate, caller: Admin) -> VenueOut:
    """A venue without sections; add them with POST /api/venues/{id}/sections."""
    return service.create_venue(body)


@app.put("/api/venues/<venue_id>", summary="Update a venue (ADMIN)")
@answers(VenueOut, errors={404: ["NOT_FOUND"]})
def update_venue(venue_id: UUID, body: VenueUpdate, caller: Admin) -> VenueOut:
    """Changes the fields sent."""
    return service.update_venue(venue_id, body)


@app.post("/api/venues/<venue_id>/sections", summary="Add a section and its seats (ADMIN)", status_code=201)
@answers(SectionOut, status=201, errors={404: ["NOT_FOUND"], 409: ["SECTION_NAME_TAKEN"]})
def add_section(venue_id: UUID, body: SectionCreate, caller: Admin) -> SectionOut:
    """Creates rows x seatsPerRow seats: rows labelled A...Z, AA..., seats numbered from 1. Names are unique
    in a venue."""
    return service.add_section(venue_id, body)


lambda_handler = lambda_entrypoint(app)
