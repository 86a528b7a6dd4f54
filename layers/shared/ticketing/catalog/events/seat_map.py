"""The seat map of an event: every seat with its effective status, grouped by section and row."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from ticketing.auth.principal import Principal
from ticketing.catalog.events import repository as events_repo
from ticketing.catalog.events.models import EventStatus, parse_seat_statuses
from ticketing.catalog.events.service import load_visible
from ticketing.db import transaction
from ticketing.errors import NotFound, PayloadTooLarge


@dataclass(frozen=True)
class SeatMap:
    json: str
    # A draft's map is its organizer's business: never stored by any cache.
    cache_control: str


def seat_map(principal: Principal | None, event_id: UUID, *, section_id: UUID | None, status: str | None) -> SeatMap:
    statuses = parse_seat_statuses(status)
    with transaction() as tx:
        event = load_visible(tx, principal, event_id)
        priced = events_repo.prices_of(tx, event_id)
        if section_id is not None and section_id not in priced:
            raise NotFound("This event has no such section.")
        section_ids = [section_id] if section_id is not None else list(priced)
        document = events_repo.seat_map_json(tx, event_id, section_ids=section_ids, statuses=statuses)
    cache_control = "no-store" if event["status"] == EventStatus.DRAFT else "no-cache"
    return SeatMap(json=document, cache_control=cache_control)


def too_large(size: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        "The seat map is too large to send uncompressed. Send `Accept-Encoding: gzip`,"
        " or ask for less with `?sectionId=` or `?status=`.",
        details={
            "responseBytes": size,
            "narrowWith": ["sectionId", "status"],
            "acceptEncoding": "gzip",
        },
    )
