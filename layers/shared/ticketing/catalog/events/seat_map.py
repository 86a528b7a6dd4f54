"""The seat map of an event: every seat with its effective status, grouped by section and row."""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from uuid import UUID

from ticketing.auth.principal import Principal
from ticketing.catalog.events import repository as events_repo
from ticketing.catalog.events.models import EventStatus, parse_seat_statuses
from ticketing.catalog.events.service import load_visible
from ticketing.db import Session, transaction
from ticketing.db.connection import Row
from ticketing.errors import NotFound, PayloadTooLarge


@dataclass(frozen=True)
class SeatMap:
    # Opaque; changes whenever the document would (seat statuses, prices, layout, filters).
    version: str
    # A draft's map is its organizer's business: never stored by any cache.
    cache_control: str
    # None when the caller already has this version.
    json: str | None


def _map_version(event: Row, section_ids: Sequence[UUID], statuses: Sequence[str], seat_state: str) -> str:
    sections = ",".join(sorted(str(section_id) for section_id in section_ids))
    key = f"{event['version']}|{sections}|{','.join(sorted(statuses))}|{seat_state}"
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


@dataclass(frozen=True)
class _MapScope:
    event: Row
    section_ids: list[UUID]
    cache_control: str


def _map_scope(tx: Session, principal: Principal | None, event_id: UUID, section_id: UUID | None) -> _MapScope:
    """The event as the caller may see it and the sections a map of it covers (one, with `?sectionId=`)."""
    event = load_visible(tx, principal, event_id)
    priced = events_repo.prices_of(tx, event_id)
    if section_id is not None and section_id not in priced:
        raise NotFound("This event has no such section.")
    return _MapScope(
        event=event,
        section_ids=[section_id] if section_id is not None else list(priced),
        cache_control="no-store" if event["status"] == EventStatus.DRAFT else "no-cache",
    )


def seat_map(
    principal: Principal | None,
    event_id: UUID,
    *,
    section_id: UUID | None,
    status: str | None,
    known_versions: Collection[str] = (),
) -> SeatMap:
    """The seat map, unless the caller's copy (one of `known_versions`, or `*`) is current: that check costs
    two index probes (see `seat_status`) instead of building the map, so polling with If-None-Match is cheap."""
    statuses = parse_seat_statuses(status)
    with transaction() as tx:
        scope = _map_scope(tx, principal, event_id, section_id)
        if known_versions:
            token = events_repo.seat_state_token(tx, event_id)
            current = _map_version(scope.event, scope.section_ids, statuses, token)
            if current in known_versions or "*" in known_versions:
                return SeatMap(version=current, cache_control=scope.cache_control, json=None)
        # The document and its seat state come from one statement, so the version describes this very body.
        document, token = events_repo.seat_map_json(tx, event_id, section_ids=scope.section_ids, statuses=statuses)
    return SeatMap(
        version=_map_version(scope.event, scope.section_ids, statuses, token),
        cache_control=scope.cache_control,
        json=document,
    )


# Versions of the compact status never equal a full map's, whatever the filters.
_STATUS_FORM = ["status-string"]


def seat_status(
    principal: Principal | None,
    event_id: UUID,
    *,
    section_id: UUID | None,
    known_versions: Collection[str] = (),
) -> SeatMap:
    """The compact live status of every seat (docs/seat-maps.md). A caller whose copy is current gets no
    document after two index probes (the event's change counter and its latest expired hold), never a read of
    its seats; otherwise the document is built by one ordered read in PostgreSQL."""
    with transaction() as tx:
        scope = _map_scope(tx, principal, event_id, section_id)
        if known_versions:
            token = events_repo.seat_state_token(tx, event_id)
            current = _map_version(scope.event, scope.section_ids, _STATUS_FORM, token)
            if current in known_versions or "*" in known_versions:
                return SeatMap(version=current, cache_control=scope.cache_control, json=None)
        document, token = events_repo.seat_status_json(tx, event_id, section_ids=scope.section_ids)
    return SeatMap(
        version=_map_version(scope.event, scope.section_ids, _STATUS_FORM, token),
        cache_control=scope.cache_control,
        json=document,
    )


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
