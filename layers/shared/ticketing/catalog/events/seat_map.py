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
from ticketing.db import transaction
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


def _map_version(event: Row, section_ids: Sequence[UUID], statuses: Sequence[str], fingerprint: str) -> str:
    sections = ",".join(sorted(str(section_id) for section_id in section_ids))
    key = f"{event['version']}|{sections}|{','.join(sorted(statuses))}|{fingerprint}"
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


def seat_map(
    principal: Principal | None,
    event_id: UUID,
    *,
    section_id: UUID | None,
    status: str | None,
    known_versions: Collection[str] = (),
) -> SeatMap:
    """The seat map, unless the caller's copy (one of `known_versions`, or `*`) is current: that check costs
    one cheap aggregate instead of building the map, so polling with If-None-Match stays cheap."""
    statuses = parse_seat_statuses(status)
    with transaction() as tx:
        event = load_visible(tx, principal, event_id)
        priced = events_repo.prices_of(tx, event_id)
        if section_id is not None and section_id not in priced:
            raise NotFound("This event has no such section.")
        section_ids = [section_id] if section_id is not None else list(priced)
        cache_control = "no-store" if event["status"] == EventStatus.DRAFT else "no-cache"
        if known_versions:
            fingerprint = events_repo.seat_state_fingerprint(tx, event_id, section_ids=section_ids)
            current = _map_version(event, section_ids, statuses, fingerprint)
            if current in known_versions or "*" in known_versions:
                return SeatMap(version=current, cache_control=cache_control, json=None)
        # The document and its fingerprint come from one statement, so the version describes this very body.
        document, fingerprint = events_repo.seat_map_json(tx, event_id, section_ids=section_ids, statuses=statuses)
    return SeatMap(
        version=_map_version(event, section_ids, statuses, fingerprint), cache_control=cache_control, json=document
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
