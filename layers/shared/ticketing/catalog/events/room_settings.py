"""An event's waiting room settings (`waitingRoom` on create, update and the event; docs/waiting-room.md).

The catalog owns these columns (migration 0020) and their SQL; the waiting room aggregate reads them through
`room_settings_row` and never writes them. The room's live state (its queue, admissions, pause) is not here.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from functools import cache
from typing import Annotated, Any
from uuid import UUID

from pydantic import Field

from ticketing.config import get_settings
from ticketing.db import Session
from ticketing.db.connection import Row
from ticketing.models import ApiModel, UtcDateTime, UtcInput

DEFAULT_SESSION_MINUTES = 10
# opensAt's default: the pre-queue opens this long before the sale starts.
OPENS_BEFORE_SALE = timedelta(minutes=30)

AdmitPerMinute = Annotated[int, Field(ge=1, le=1_000_000, strict=True)]
SessionMinutes = Annotated[int, Field(ge=1, le=30, strict=True)]

COLUMNS = (
    "waiting_room_enabled",
    "waiting_room_opens_at",
    "waiting_room_admit_per_minute",
    "waiting_room_session_minutes",
)


class WaitingRoomIn(ApiModel):
    """The room as an organizer sets it; an update replaces the whole object (absent fields take defaults)."""

    enabled: Annotated[bool, Field(strict=True)]
    opens_at: UtcInput | None = Field(default=None, description="default: 30 minutes before salesStartAt")
    admit_per_minute: AdmitPerMinute | None = Field(
        default=None, description="the ceiling of the admission rate; default: the deployment's ceiling"
    )
    session_minutes: SessionMinutes = Field(default=DEFAULT_SESSION_MINUTES, description="how long an admission lasts")

    def columns(self) -> dict[str, Any]:
        return {
            "waiting_room_enabled": self.enabled,
            "waiting_room_opens_at": self.opens_at,
            "waiting_room_admit_per_minute": self.admit_per_minute,
            "waiting_room_session_minutes": self.session_minutes,
        }


def default_columns() -> dict[str, Any]:
    """An event created without `waitingRoom`: no room."""
    return WaitingRoomIn(enabled=False).columns()


class WaitingRoomOut(ApiModel):
    enabled: bool
    opens_at: UtcDateTime | None = Field(description="null until the sale's start is known (a draft)")
    admit_per_minute: int
    session_minutes: int

    @classmethod
    def from_event_row(cls, row: Mapping[str, Any], sales_start_at: datetime | None) -> WaitingRoomOut:
        return cls(
            enabled=row["waiting_room_enabled"],
            opens_at=effective_opens_at(row["waiting_room_opens_at"], sales_start_at),
            admit_per_minute=row["waiting_room_admit_per_minute"] or default_admit_per_minute(),
            session_minutes=row["waiting_room_session_minutes"],
        )


def effective_opens_at(opens_at: datetime | None, sales_start_at: datetime | None) -> datetime | None:
    """When the pre-queue opens: the organizer's opensAt, else OPENS_BEFORE_SALE before the sale starts."""
    if opens_at is None and sales_start_at is not None:
        return sales_start_at - OPENS_BEFORE_SALE
    return opens_at


def default_admit_per_minute() -> int:
    """The ceiling of an event that sets none, in ONE place: WAITING_ROOM_DEFAULT_ADMIT_PER_MINUTE when set, else
    the capacity model's safe admission rate for the deployed Aurora writer (docs/capacity.md)."""
    settings = get_settings()
    if settings.waiting_room_default_admit_per_minute is not None:
        return settings.waiting_room_default_admit_per_minute
    return model_ceiling(settings.database_instance_class, settings.database_max_acu)


@cache
def model_ceiling(instance_class: str, serverless_max_acu: float) -> int:
    """The capacity model's ceiling, computed once per environment (it is pure arithmetic on fixed anchors)."""
    from ticketing.capacity import admit_per_minute

    return admit_per_minute(instance_class, serverless_max_acu)


def room_settings_row(tx: Session, event_id: UUID) -> Row | None:
    """What the waiting room needs to know about an event: one indexed read by primary key."""
    return tx.row(
        "SELECT id, organizer_id, status, starts_at, coalesce(sales_start_at, published_at) AS sales_start_at,"
        " coalesce(sales_end_at, starts_at) AS sales_end_at, " + ", ".join(COLUMNS) + " FROM events WHERE id = :id",
        id=event_id,
    )


def rooms_open_at(tx: Session, moment: datetime) -> list[Row]:
    """Every published event whose room is enabled and whose sale has not ended at `moment`."""
    return tx.rows(
        "SELECT id, organizer_id, status, starts_at, coalesce(sales_start_at, published_at) AS sales_start_at,"
        " coalesce(sales_end_at, starts_at) AS sales_end_at, " + ", ".join(COLUMNS) + " FROM events"
        " WHERE waiting_room_enabled AND status = 'PUBLISHED' AND coalesce(sales_end_at, starts_at) > :moment",
        moment=moment,
    )
