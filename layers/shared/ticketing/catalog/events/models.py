"""The event shapes of docs/api.md and their inputs."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Self
from uuid import UUID

from pydantic import Field, StringConstraints, ValidationInfo, field_validator

from ticketing.catalog.events.room_settings import WaitingRoomIn, WaitingRoomOut
from ticketing.catalog.venues.models import Price
from ticketing.errors import ValidationFailed
from ticketing.models import ApiModel, UtcDateTime, UtcInput, example
from ticketing.tickets.models import CheckInCounts


class EventStatus(StrEnum):
    DRAFT = "DRAFT"
    PUBLISHED = "PUBLISHED"
    CANCELLED = "CANCELLED"
    COMPLETED = "COMPLETED"


class SeatStatus(StrEnum):
    AVAILABLE = "AVAILABLE"
    HELD = "HELD"
    BOOKED = "BOOKED"


DEFAULT_MAX_TICKETS_PER_USER = 10

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=5000)]
Category = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
MaxTickets = Annotated[int, Field(ge=1, le=100, strict=True)]


class SectionPrice(ApiModel):
    section_id: UUID
    price: Price


def _distinct_sections(prices: list[SectionPrice] | None) -> list[SectionPrice] | None:
    if prices is not None and len({price.section_id for price in prices}) != len(prices):
        raise ValueError("Give each section at most one price.")
    return prices


def _after(value: datetime | None, info: ValidationInfo, earlier_field: str, message: str) -> datetime | None:
    earlier = info.data.get(earlier_field)
    if value is not None and earlier is not None and value <= earlier:
        raise ValueError(message)
    return value


class EventCreate(ApiModel):
    model_config = example(
        {
            "venueId": "7c9e6679-7425-40de-944b-e07fc1f90ae7",
            "title": "Symphony No. 9",
            "category": "CONCERT",
            "startsAt": "2027-06-01T19:30:00Z",
            "endsAt": "2027-06-01T22:00:00Z",
            "currency": "EUR",
            "prices": [{"sectionId": "9b2e4c1a-0d7f-4e8b-a5c3-1f6d2e8b7a90", "price": 4500}],
            "maxTicketsPerUser": 6,
        }
    )

    venue_id: UUID
    title: Title
    description: Description | None = None
    category: Category
    starts_at: UtcInput
    ends_at: UtcInput
    sales_start_at: UtcInput | None = None
    sales_end_at: UtcInput | None = None
    currency: Currency = Field(description="ISO 4217, upper case")
    prices: list[SectionPrice] = Field(default_factory=list, max_length=1000)
    max_tickets_per_user: MaxTickets = DEFAULT_MAX_TICKETS_PER_USER
    waiting_room: WaitingRoomIn | None = Field(default=None, description="docs/waiting-room.md; default: no room")

    _check_prices = field_validator("prices")(_distinct_sections)

    @field_validator("ends_at")
    @classmethod
    def _ends_after_start(cls, value: datetime, info: ValidationInfo) -> datetime | None:
        return _after(value, info, "starts_at", "endsAt must be after startsAt.")

    @field_validator("sales_end_at")
    @classmethod
    def _sales_end_after_start(cls, value: datetime | None, info: ValidationInfo) -> datetime | None:
        return _after(value, info, "sales_start_at", "salesEndAt must be after salesStartAt.")


class EventUpdate(ApiModel):
    """A partial update. `null` clears description and the sales window bounds (back to their defaults)."""

    model_config = example(
        {"title": "Symphony No. 9 (extra date)", "startsAt": "2027-06-02T19:30:00Z", "endsAt": "2027-06-02T22:00:00Z"}
    )

    venue_id: UUID | None = None
    title: Title | None = None
    description: Description | None = None
    category: Category | None = None
    starts_at: UtcInput | None = None
    ends_at: UtcInput | None = None
    sales_start_at: UtcInput | None = None
    sales_end_at: UtcInput | None = None
    currency: Currency | None = None
    prices: list[SectionPrice] | None = Field(default=None, max_length=1000)
    max_tickets_per_user: MaxTickets | None = None
    waiting_room: WaitingRoomIn | None = Field(default=None, description="replaces the room's settings; null: no room")

    _check_prices = field_validator("prices")(_distinct_sections)

    @field_validator(
        "venue_id", "title", "category", "starts_at", "ends_at", "currency", "prices", "max_tickets_per_user"
    )
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("This field cannot be null.")
        return value


class EventVenue(ApiModel):
    id: UUID
    name: str
    city: str


class EventSectionOut(ApiModel):
    id: UUID
    name: str
    price: int
    available: int
    held: int
    booked: int


class EventSummary(ApiModel):
    """An event as listed. salesStartAt/salesEndAt are the effective window (defaults: publish time, startsAt)."""

    id: UUID
    title: str
    description: str | None
    category: str
    status: EventStatus
    starts_at: UtcDateTime
    ends_at: UtcDateTime
    sales_start_at: UtcDateTime | None
    sales_end_at: UtcDateTime
    currency: str
    max_tickets_per_user: int
    venue: EventVenue
    version: int
    waiting_room: WaitingRoomOut

    @staticmethod
    def fields_from_row(row: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "id": row["id"],
            "title": row["title"],
            "description": row["description"],
            "category": row["category"],
            "status": row["status"],
            "starts_at": row["starts_at"],
            "ends_at": row["ends_at"],
            "sales_start_at": row["sales_start_at"] or row["published_at"],
            "sales_end_at": row["sales_end_at"] or row["starts_at"],
            "currency": row["currency"],
            "max_tickets_per_user": row["max_tickets_per_user"],
            "venue": EventVenue(id=row["venue_id"], name=row["venue_name"], city=row["venue_city"]),
            "version": row["version"],
            "waiting_room": WaitingRoomOut.from_event_row(row, row["sales_start_at"] or row["published_at"]),
        }

    @classmethod
    def from_row(cls, row: Mapping[str, Any], **fields: Any) -> Self:
        return cls.model_validate({**cls.fields_from_row(row), **fields})


class EventCancellation(ApiModel):
    """A cancelled event's aftermath, shown to its organizer and admins: the bookings its cancellation
    cancelled, and the refunds of the event's bookings still queued or given up on (docs/refunds.md)."""

    bookings: int
    refunds_pending: int
    refunds_failed: int


class EventOut(EventSummary):
    sections: list[EventSectionOut]
    # Only the event's organizer and admins get this field; everyone else's answer does not have it.
    check_in: CheckInCounts | None = Field(
        default=None, exclude_if=lambda counts: counts is None, description="tickets and check-ins (organizer, admin)"
    )
    cancellation: EventCancellation | None = Field(
        default=None, description="Only for a CANCELLED event, and only to its organizer and admins."
    )

    @classmethod
    def from_rows(
        cls, row: dict[str, Any], sections: list[dict[str, Any]], cancellation: EventCancellation | None = None
    ) -> EventOut:
        return cls.from_row(
            row, sections=[EventSectionOut(**section) for section in sections], cancellation=cancellation
        )


def parse_seat_statuses(raw: str | None) -> list[SeatStatus]:
    """`?status=AVAILABLE,HELD`: one or more seat statuses, comma-separated; none means all."""
    if raw is None:
        return list(SeatStatus)
    names = [name.strip().upper() for name in raw.split(",")]
    unknown = [name for name in names if name not in SeatStatus.__members__]
    if unknown or not names:
        raise ValidationFailed.for_field("status", "Use one or more of AVAILABLE, HELD, BOOKED, comma-separated.")
    return [SeatStatus(name) for name in dict.fromkeys(names)]


class SeatMapSeat(ApiModel):
    id: UUID
    number: int
    status: SeatStatus


class SeatMapRow(ApiModel):
    label: str
    seats: list[SeatMapSeat]


class SeatMapSection(ApiModel):
    id: UUID
    name: str
    price: int
    rows: list[SeatMapRow]


class SeatCounts(ApiModel):
    available: int
    held: int
    booked: int


class SeatMapOut(ApiModel):
    """The seat map as published. The document itself is built by PostgreSQL (catalog/events/repository.py)."""

    event_id: UUID
    sections: list[SeatMapSection]
    counts: SeatCounts


class SeatStatusSection(ApiModel):
    id: UUID
    name: str
    price: int
    rows: int
    seats_per_row: int
    row_labels: list[str] = Field(description="one label per row, front to back: A..Z, AA, AB, ...")
    seats: str = Field(
        description="one letter per seat (A available, H held, B booked), row by row in rowLabels order, then by"
        " seat number from 1: seat (row r, number n) is at index r * seatsPerRow + n - 1 (r from 0)",
        pattern="^[AHB]*$",
    )


class SeatStatusMap(ApiModel):
    """The live status of every seat in compact form (docs/seat-maps.md), for maps of any size."""

    event_id: UUID
    server_time: UtcDateTime
    sections: list[SeatStatusSection]
    counts: SeatCounts
