"""Event rules: who may see and manage an event, its lifecycle, its prices and its seat inventory."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Protocol
from uuid import UUID

from ticketing import domain_events
from ticketing.auth.principal import Principal, Role
from ticketing.catalog.events import repository as events_repo
from ticketing.catalog.events import room_settings
from ticketing.catalog.events.models import (
    EventCancellation,
    EventCreate,
    EventOut,
    EventStatus,
    EventSummary,
    EventUpdate,
    SectionPrice,
)
from ticketing.catalog.venues import repository as venues_repo
from ticketing.db import Session, transaction
from ticketing.db.connection import Row
from ticketing.errors import Conflict, Forbidden, NotFound, ValidationFailed
from ticketing.http.paging import page_offset
from ticketing.models import Page, iso_utc
from ticketing.notifications.repository import notify_ticket_holders
from ticketing.tickets import repository as tickets_repo
from ticketing.tickets.models import CheckInCounts

# Fields that shape what is sold; they are fixed once the event leaves DRAFT.
_DRAFT_ONLY_FIELDS = {"venue_id": "venueId", "prices": "prices", "currency": "currency"}


def _event_not_found() -> NotFound:
    return NotFound("No such event.")


def may_see(principal: Principal | None, event: Row) -> bool:
    """Drafts are private to their organizer and admins; every other status is public."""
    if event["status"] != EventStatus.DRAFT:
        return True
    return principal is not None and (principal.is_admin or principal.user_id == event["organizer_id"])


def load_visible(tx: Session, principal: Principal | None, event_id: UUID) -> Row:
    event = events_repo.find_event(tx, event_id)
    if event is None or not may_see(principal, event):
        raise _event_not_found()
    return event


def _load_managed(tx: Session, principal: Principal, event_id: UUID) -> Row:
    """The event locked for a change by its organizer or an admin."""
    event = events_repo.find_event(tx, event_id, for_update=True)
    if event is None:
        raise _event_not_found()
    if not (principal.is_admin or principal.user_id == event["organizer_id"]):
        raise Forbidden("Only the event's organizer or an admin can change it.")
    return event


def _may_manage(principal: Principal | None, event: Row) -> bool:
    return principal is not None and (principal.is_admin or principal.user_id == event["organizer_id"])


def _cancellation(tx: Session, principal: Principal | None, event: Row) -> EventCancellation | None:
    """The cancellation's progress (bookings cancelled, refunds pending and failed) for those who manage it."""
    if event["status"] != EventStatus.CANCELLED or not _may_manage(principal, event):
        return None
    # Imported here: only a cancelled event's manager loads the refund code.
    from ticketing.refunds.repository import event_refund_counts

    refunds = event_refund_counts(tx, event["id"])
    return EventCancellation(
        bookings=event["cancelled_bookings"] or 0, refunds_pending=refunds["pending"], refunds_failed=refunds["failed"]
    )


def _event_out(tx: Session, event_id: UUID, principal: Principal | None = None) -> EventOut:
    event = events_repo.find_event(tx, event_id)
    if event is None:
        raise _event_not_found()
    return EventOut.from_rows(event, events_repo.section_counts(tx, event_id), _cancellation(tx, principal, event))


def get_event(principal: Principal | None, event_id: UUID) -> EventOut:
    with transaction() as tx:
        event = load_visible(tx, principal, event_id)
        view = EventOut.from_rows(event, events_repo.section_counts(tx, event_id), _cancellation(tx, principal, event))
        if _may_manage(principal, event):
            counts = CheckInCounts.from_row(tickets_repo.check_in_counts(tx, event_id))
            view = view.model_copy(update={"check_in": counts})
        return view


def list_events(
    principal: Principal | None,
    *,
    q: str | None,
    category: str | None,
    city: str | None,
    venue_id: UUID | None,
    starts_from: datetime | None,
    starts_to: datetime | None,
    status: EventStatus | None,
    descending: bool,
    page: int,
    page_size: int,
) -> Page[EventSummary]:
    if starts_from is not None and starts_to is not None and starts_to < starts_from:
        raise ValidationFailed.for_field("to", "`to` must not be before `from`.")
    with transaction() as tx:
        rows, total = events_repo.list_events(
            tx,
            see_all=principal is not None and principal.is_admin,
            viewer_id=principal.user_id if principal is not None and principal.role is Role.ORGANIZER else None,
            q=q,
            category=category,
            city=city,
            venue_id=venue_id,
            starts_from=starts_from,
            starts_to=starts_to,
            status=status,
            descending=descending,
            limit=page_size,
            offset=page_offset(page, page_size),
        )
    items = [EventSummary.from_row(row) for row in rows]
    return Page[EventSummary](items=items, page=page, page_size=page_size, total=total)


def _resolve_prices(tx: Session, venue_id: UUID, given: dict[UUID, int], *, given_field: str) -> dict[UUID, int]:
    """A price for every section of the venue: the given one, else the section's defaultPrice (else 422)."""
    sections = venues_repo.sections_of(tx, [venue_id])
    if not sections:
        raise ValidationFailed.for_field("venueId", "This venue has no sections yet.")
    known = {section["id"] for section in sections}
    foreign = [section_id for section_id in given if section_id not in known]
    if foreign:
        raise ValidationFailed(
            "A price names a section that is not part of this venue.",
            details={"fields": [{"field": given_field, "message": f"Section {foreign[0]} is not in this venue."}]},
        )
    prices: dict[UUID, int] = {}
    unpriced: list[Row] = []
    for section in sections:
        price = given.get(section["id"], section["default_price"])
        if price is None:
            unpriced.append(section)
        else:
            prices[section["id"]] = price
    if unpriced:
        names = ", ".join(section["name"] for section in unpriced)
        message = f"Give a price for section(s) without a defaultPrice: {names}."
        raise ValidationFailed(
            message,
            details={
                "fields": [{"field": "prices", "message": message}],
                "sectionIds": [str(section["id"]) for section in unpriced],
            },
        )
    return prices


def _price_map(prices: list[SectionPrice]) -> dict[UUID, int]:
    return {price.section_id: price.price for price in prices}


def _venue_must_exist(tx: Session, venue_id: UUID) -> None:
    if venues_repo.find_venue(tx, venue_id) is None:
        raise ValidationFailed.for_field("venueId", "No such venue.")


def create_event(principal: Principal, body: EventCreate) -> EventOut:
    """A DRAFT event owned by the caller, with one event seat per seat of its venue."""
    fields = body.model_dump(exclude={"prices", "waiting_room"})
    fields.update(body.waiting_room.columns() if body.waiting_room else room_settings.default_columns())
    with transaction() as tx:
        _venue_must_exist(tx, body.venue_id)
        prices = _resolve_prices(tx, body.venue_id, _price_map(body.prices), given_field="prices")
        event_id = events_repo.insert_event(tx, organizer_id=principal.user_id, fields=fields)
        events_repo.set_prices(tx, event_id, prices)
        events_repo.add_seat_inventory(tx, event_id)
        return _event_out(tx, event_id)


def _check_schedule(event: Row, changes: dict[str, Any]) -> None:
    """The schedule after the change must still make sense (the schema checks it too, as a last line)."""

    def merged(name: str) -> datetime | None:
        value: datetime | None = changes[name] if name in changes else event[name]
        return value

    starts_at, ends_at = merged("starts_at"), merged("ends_at")
    if starts_at is not None and ends_at is not None and ends_at <= starts_at:
        field = "endsAt" if "ends_at" in changes else "startsAt"
        raise ValidationFailed.for_field(field, "endsAt must be after startsAt.")
    sales_start_at, sales_end_at = merged("sales_start_at"), merged("sales_end_at")
    if sales_start_at is not None and sales_end_at is not None and sales_end_at <= sales_start_at:
        field = "salesEndAt" if "sales_end_at" in changes else "salesStartAt"
        raise ValidationFailed.for_field(field, "salesEndAt must be after salesStartAt.")


def _check_published_reschedule(tx: Session, event: Row, changes: dict[str, Any]) -> None:
    """A published event's start only moves to the future, and its ticket holders hear about a new date."""
    moved = {
        name: changes[name] for name in ("starts_at", "ends_at") if name in changes and changes[name] != event[name]
    }
    if "starts_at" in moved and moved["starts_at"] <= datetime.now(UTC):
        raise ValidationFailed.for_field("startsAt", "A published event's start can only move to a future time.")
    if not moved:
        return
    starts_at: datetime = moved["starts_at"] if "starts_at" in moved else event["starts_at"]
    ends_at: datetime = moved["ends_at"] if "ends_at" in moved else event["ends_at"]
    notify_ticket_holders(
        tx,
        event_id=event["id"],
        type="EVENT_RESCHEDULED",
        title=f"{event['title']}: new date",
        body=f"{event['title']} now starts at {iso_utc(starts_at)} and ends at {iso_utc(ends_at)}.",
        data={"eventId": str(event["id"]), "startsAt": iso_utc(starts_at), "endsAt": iso_utc(ends_at)},
    )


def _rebuild_draft_inventory(tx: Session, event: Row, venue_id: UUID, given: dict[UUID, int]) -> None:
    """Brings a draft's prices and seats in line with its (maybe new) venue's current sections."""
    if venue_id != event["venue_id"]:
        _venue_must_exist(tx, venue_id)
        events_repo.delete_seat_inventory(tx, event["id"])
        base: dict[UUID, int] = {}
    else:
        base = events_repo.prices_of(tx, event["id"])
    prices = _resolve_prices(tx, venue_id, {**base, **given}, given_field="prices")
    events_repo.set_prices(tx, event["id"], prices)
    events_repo.add_seat_inventory(tx, event["id"])


def update_event(principal: Principal, event_id: UUID, body: EventUpdate) -> EventOut:
    """A partial update by the organizer or an admin; every change bumps `version`."""
    changes = body.model_dump(exclude_unset=True, exclude={"prices", "waiting_room"})
    if "waiting_room" in body.model_fields_set:
        changes.update(body.waiting_room.columns() if body.waiting_room else room_settings.default_columns())
    given_prices = body.prices
    with transaction() as tx:
        event = _load_managed(tx, principal, event_id)
        if event["status"] in (EventStatus.CANCELLED, EventStatus.COMPLETED):
            raise Conflict(f"A {event['status'].lower()} event cannot be edited.", code="EVENT_NOT_EDITABLE")
        draft_only = [name for field, name in _DRAFT_ONLY_FIELDS.items() if field in body.model_fields_set]
        if draft_only and event["status"] != EventStatus.DRAFT:
            raise Conflict(
                f"{', '.join(draft_only)} can only change while the event is a DRAFT.",
                code="EVENT_NOT_EDITABLE",
                details={"fields": draft_only},
            )
        if not body.model_fields_set:
            return _event_out(tx, event_id)
        _check_schedule(event, changes)
        if event["status"] == EventStatus.PUBLISHED:
            _check_published_reschedule(tx, event, changes)
        if "venue_id" in changes or given_prices is not None:
            venue_id: UUID = changes["venue_id"] if "venue_id" in changes else event["venue_id"]
            _rebuild_draft_inventory(tx, event, venue_id, _price_map(given_prices or []))
        events_repo.update_event(tx, event_id, changes)
        return _event_out(tx, event_id)


def publish_event(principal: Principal, event_id: UUID) -> EventOut:
    """DRAFT -> PUBLISHED while the start is ahead. Publishing a published event again changes nothing."""
    with transaction() as tx:
        event = _load_managed(tx, principal, event_id)
        if event["status"] == EventStatus.PUBLISHED:
            return _event_out(tx, event_id)
        if event["status"] != EventStatus.DRAFT:
            raise Conflict(f"A {event['status'].lower()} event cannot be published.", code="EVENT_NOT_PUBLISHABLE")
        if event["starts_at"] <= datetime.now(UTC):
            raise Conflict("The event has already started; move its start before publishing.", code="EVENT_STARTED")
        events_repo.publish(tx, event_id)
        return _event_out(tx, event_id)


class ClosedBookings(Protocol):
    @property
    def bookings(self) -> int: ...

    @property
    def refunds_queued(self) -> int: ...


# Ends every live booking of the event inside the cancelling transaction: the bookings' own business, passed in
# by the caller (functions/events/app.py wires ticketing.bookings.event_cancellation), so the catalog imports
# nothing of bookings.
CloseBookings = Callable[[Session, UUID], ClosedBookings]


def cancel_event(principal: Principal, event_id: UUID, close_bookings: CloseBookings) -> EventOut:
    """Cancels the event and everything sold for it in ONE transaction, whatever the number of bookings:
    holds released, PENDING and CONFIRMED bookings cancelled, coupons given back, refunds queued, buyers told.
    Answers at once with the cancellation's progress; the refunds are sent afterwards by the refund workers.
    Cancelling again changes nothing and answers the current progress.
    """
    refunds_queued = 0
    bookings_cancelled = 0
    with transaction() as tx:
        event = _load_managed(tx, principal, event_id)
        if event["status"] == EventStatus.COMPLETED:
            raise Conflict("A completed event cannot be cancelled.", code="EVENT_NOT_CANCELLABLE")
        if event["status"] != EventStatus.CANCELLED:
            events_repo.cancel(tx, event_id)
            released = events_repo.release_unbooked_holds(tx, event_id)
            closed = close_bookings(tx, event_id)
            events_repo.record_cancelled_bookings(tx, event_id, closed.bookings)
            refunds_queued = closed.refunds_queued
            bookings_cancelled = closed.bookings
            # One outbox row whatever the number of bookings; their BookingCancelled events are written from it
            # right after commit (domain_events.expansion).
            domain_events.record(
                tx,
                event_type=domain_events.EVENT_CANCELLED,
                payload={
                    "eventId": str(event_id),
                    "releasedHolds": released,
                    "bookings": closed.bookings,
                    "refundsQueued": refunds_queued,
                },
                expand_bookings=bookings_cancelled > 0,
            )
        answer = _event_out(tx, event_id, principal)
    if refunds_queued:
        from ticketing.refunds.trigger import wake_refund_workers

        wake_refund_workers(event_id=event_id, refunds=refunds_queued)
    if bookings_cancelled:
        domain_events.wake_publisher_after_commit(event_id)
    domain_events.publish_after_commit()
    return answer
