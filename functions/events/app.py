"""EventsFunction: /api/events/* (browse events and seat maps; organizers create, edit, publish, cancel)."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from ticketing.catalog.events import seat_map as seat_maps
from ticketing.catalog.events import service
from ticketing.catalog.events.models import (
    EventCreate,
    EventOut,
    EventStatus,
    EventSummary,
    EventUpdate,
    SeatMapOut,
    SeatStatusMap,
)
from ticketing.config import get_settings
from ticketing.db import Session
from ticketing.http.caching import edge_cached
from ticketing.http.operations import answers
from ticketing.http.paging import PageNumber, PageSize
from ticketing.http.representation import if_none_match_versions, json_representation
from ticketing.http.resolver import create_resolver, lambda_entrypoint
from ticketing.http.security import MaybeUser, OrganizerOrAdmin
from ticketing.http.tags import ApiTag
from ticketing.models import Page, UtcInput

app = create_resolver(tag=ApiTag.EVENTS)


@app.get("/api/events", summary="Browse events (the public sees PUBLISHED ones)")
@edge_cached(max_age=10, stale_while_revalidate=30)
def list_events(
    caller: MaybeUser,
    q: Annotated[str | None, Query(max_length=200, description="part of title or description")] = None,
    category: Annotated[str | None, Query(max_length=50)] = None,
    city: Annotated[str | None, Query(max_length=120)] = None,
    venue_id: Annotated[UUID | None, Query(alias="venueId")] = None,
    starts_from: Annotated[UtcInput | None, Query(alias="from", description="startsAt at or after")] = None,
    starts_to: Annotated[UtcInput | None, Query(alias="to", description="startsAt at or before")] = None,
    status: EventStatus | None = None,
    sort: Literal["startsAt", "-startsAt"] = "startsAt",
    page: PageNumber = 1,
    page_size: PageSize = 20,
) -> Page[EventSummary]:
    """The public sees PUBLISHED events; organizers also their own drafts; admins all. `from`/`to` bound
    `startsAt` and need an offset."""
    return service.list_events(
        caller,
        q=q,
        category=category,
        city=city,
        venue_id=venue_id,
        starts_from=starts_from,
        starts_to=starts_to,
        status=status,
        descending=sort == "-startsAt",
        page=page,
        page_size=page_size,
    )


@app.get("/api/events/<event_id>", summary="An event with its sections, prices and seat counts")
@answers(EventOut, errors={404: ["NOT_FOUND"]})
@edge_cached(max_age=2, stale_while_revalidate=5)
def get_event(event_id: UUID, caller: MaybeUser) -> EventOut:
    """A draft is visible to its organizer and admins only (404 for everyone else)."""
    return service.get_event(caller, event_id)


def _known_versions() -> frozenset[str]:
    headers = app.current_event.headers
    return if_none_match_versions(headers.get("If-None-Match"), accept_encoding=headers.get("Accept-Encoding"))


def _seat_map_answer(seat_map: seat_maps.SeatMap) -> Response[str | None]:
    """200 (gzip when accepted), 304 for a current copy, or 413 beyond Lambda's response limit."""
    return json_representation(
        seat_map.json,
        version=seat_map.version,
        accept_encoding=app.current_event.headers.get("Accept-Encoding"),
        cache_control=seat_map.cache_control,
        max_response_bytes=get_settings().max_response_bytes,
        too_large=seat_maps.too_large,
    )


@app.get(
    "/api/events/<event_id>/seats",
    summary="The seat map (gzip, ETag and 304 supported)",
    responses={304: {"description": "Not modified (If-None-Match matched the ETag)", "content": {}}},
)
@answers(
    SeatMapOut,
    errors={404: ["NOT_FOUND"], 413: ["PAYLOAD_TOO_LARGE"]},
    headers={"ETag": "the map's version (one per content encoding)", "Cache-Control": "no-cache (no-store for drafts)"},
)
def get_seat_map(
    event_id: UUID,
    caller: MaybeUser,
    section_id: Annotated[UUID | None, Query(alias="sectionId")] = None,
    status: Annotated[str | None, Query(max_length=100, description="AVAILABLE, HELD, BOOKED; comma-separated")] = None,
) -> Response[str | None]:
    """Every seat with its status (a hold past its expiry reads AVAILABLE). `status` lists only those seats;
    counts always cover the sections in the map. Too large without gzip: 413 naming sectionId, status, gzip."""
    return _seat_map_answer(
        seat_maps.seat_map(caller, event_id, section_id=section_id, status=status, known_versions=_known_versions())
    )


@app.get(
    "/api/events/<event_id>/seats/status",
    summary="The live status of every seat, one letter per seat, for maps of any size (gzip, ETag and 304)",
    responses={304: {"description": "Not modified (If-None-Match matched the ETag)", "content": {}}},
)
@answers(
    SeatStatusMap,
    errors={404: ["NOT_FOUND"]},
    headers={
        "ETag": "the status's version (one per content encoding)",
        "Cache-Control": "anonymous: public, max-age=1, stale-while-revalidate=1; with a token: private, no-store",
    },
)
@edge_cached(max_age=1, stale_while_revalidate=1)
def get_seat_status(
    event_id: UUID,
    caller: MaybeUser,
    section_id: Annotated[UUID | None, Query(alias="sectionId")] = None,
) -> Response[str | None]:
    """Section geometry plus one letter per seat (A available, H held, B booked; a hold past its expiry reads A),
    row by row, then by number: all a seat-map widget needs, for 1,000,000 seats in one answer (docs/seat-maps.md)."""
    return _seat_map_answer(
        seat_maps.seat_status(caller, event_id, section_id=section_id, known_versions=_known_versions())
    )


@app.post("/api/events", summary="Create a DRAFT event with its seat inventory (ORGANIZER, ADMIN)", status_code=201)
@answers(EventOut, status=201)
def create_event(body: EventCreate, caller: OrganizerOrAdmin) -> EventOut:
    """One seat per venue seat; a section without a price takes its defaultPrice (none at all: 422)."""
    return service.create_event(caller, body)


@app.put("/api/events/<event_id>", summary="Partly update an event (its organizer or an ADMIN)")
@answers(EventOut, errors={404: ["NOT_FOUND"], 409: ["EVENT_NOT_EDITABLE"]})
def update_event(event_id: UUID, body: EventUpdate, caller: OrganizerOrAdmin) -> EventOut:
    """Prices and venue change only while DRAFT. Once published, startsAt only moves to a future time, endsAt
    stays after it, and every ticket holder is notified of a new date."""
    return service.update_event(caller, event_id, body)


@app.post("/api/events/<event_id>/publish", summary="DRAFT -> PUBLISHED (its organizer or an ADMIN)")
@answers(EventOut, errors={404: ["NOT_FOUND"], 409: ["EVENT_NOT_PUBLISHABLE", "EVENT_STARTED"]})
def publish_event(event_id: UUID, caller: OrganizerOrAdmin) -> EventOut:
    """The start must be in the future; publishing a published event changes nothing."""
    return service.publish_event(caller, event_id)


@app.post("/api/events/<event_id>/cancel", summary="Cancel an event; repeating it changes nothing")
@answers(EventOut, errors={404: ["NOT_FOUND"], 409: ["EVENT_NOT_CANCELLABLE"]})
def cancel_event(event_id: UUID, caller: OrganizerOrAdmin) -> EventOut:
    """Releases holds, cancels PENDING and CONFIRMED bookings, queues refunds and notifies every buyer."""
    return service.cancel_event(caller, event_id, close_bookings=_close_bookings)


def _close_bookings(tx: Session, event_id: UUID) -> service.ClosedBookings:
    """The bookings' part of an event cancellation; imported only when an event is cancelled."""
    from ticketing.bookings.event_cancellation import cancel_event_bookings

    return cancel_event_bookings(tx, event_id)


lambda_handler = lambda_entrypoint(app)
