"""The waiting room's states and answers (docs/waiting-room.md)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from pydantic import Field

from ticketing.catalog.events.room_settings import default_admit_per_minute, effective_opens_at
from ticketing.models import ApiModel, UtcDateTime


class PlaceState(StrEnum):
    """Where one buyer stands."""

    PRE_QUEUE = "PRE_QUEUE"
    WAITING = "WAITING"
    ADMITTED = "ADMITTED"
    SOLD_OUT = "SOLD_OUT"
    CLOSED = "CLOSED"


class RoomState(StrEnum):
    """Where the room stands, as everyone sees it."""

    NOT_OPEN = "NOT_OPEN"
    PRE_QUEUE = "PRE_QUEUE"
    OPEN = "OPEN"
    PAUSED = "PAUSED"
    SOLD_OUT = "SOLD_OUT"
    CLOSED = "CLOSED"


@dataclass(frozen=True)
class RoomSettings:
    """An event's room as the catalog stores it, with its defaults applied."""

    event_id: UUID
    organizer_id: UUID
    enabled: bool
    published: bool
    opens_at: datetime | None
    sales_start_at: datetime | None
    sales_end_at: datetime
    admit_per_minute: int
    session_minutes: int

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> RoomSettings:
        sales_start_at = row["sales_start_at"]
        return cls(
            event_id=row["id"],
            organizer_id=row["organizer_id"],
            enabled=row["waiting_room_enabled"],
            published=row["status"] == "PUBLISHED",
            opens_at=effective_opens_at(row["waiting_room_opens_at"], sales_start_at),
            sales_start_at=sales_start_at,
            sales_end_at=row["sales_end_at"],
            admit_per_minute=row["waiting_room_admit_per_minute"] or default_admit_per_minute(),
            session_minutes=row["waiting_room_session_minutes"],
        )

    def closed_at(self, now: datetime) -> bool:
        return not self.published or now >= self.sales_end_at


class Admission(ApiModel):
    token: str = Field(description="send it as X-Admission-Token on hold-seats, hold-best and bookings/create")
    expires_at: UtcDateTime


class Place(ApiModel):
    """One buyer's place in one event's room."""

    event_id: UUID
    state: PlaceState
    position: int | None = Field(description="1 is served first; null in the pre-queue, fixed once given")
    ahead_of_you: int | None = Field(description="people still waiting in front; null while unknown")
    estimated_wait_seconds: int | None
    poll_after_seconds: int = Field(description="ask again after this long; grows with the distance")
    admission: Admission | None
    joined_at_micros: int = Field(
        description="when the caller joined (µs since the epoch); admitted once the room's joinedBeforeMicros "
        "passes it (those who joined after the sale started)"
    )
    pre_queue_key: float | None = Field(
        description="the caller's draw in the pre-queue's shuffle (joined before the sale started); admitted once "
        "the room's preQueueKeyBelow passes it. null for those who joined after the start"
    )


class RoomView(ApiModel):
    """The room as everyone sees it: the same answer for every caller, cacheable."""

    event_id: UUID
    state: RoomState
    waiting: int
    admitted_per_minute: int
    opens_at: UtcDateTime | None
    sales_start_at: UtcDateTime | None
    admitted: int = Field(description="people admitted so far")
    pre_queue_key_below: float = Field(
        description="pre-queue places whose preQueueKey is below this are admitted (1: the whole pre-queue)"
    )
    joined_before_micros: int = Field(
        description="places that joined after the start before this moment (µs since the epoch) are admitted"
    )


class WaitSeconds(ApiModel):
    p50: int | None
    p95: int | None


class RoomStats(ApiModel):
    """The organizer's view (docs/waiting-room.md says how each figure is counted)."""

    waiting: int
    admitted: int
    active: int
    bought: int
    abandoned: int
    admitted_per_minute: int
    wait_seconds: WaitSeconds
    paused: bool
