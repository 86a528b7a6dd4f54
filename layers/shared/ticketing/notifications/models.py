"""The notification shape of /api/users/notifications."""

from __future__ import annotations

from uuid import UUID

from ticketing.models import ApiModel, UtcDateTime


class NotificationOut(ApiModel):
    """`bookingId` and `eventId` name what the notification is about (null when it is about neither)."""

    id: UUID
    type: str
    title: str
    body: str
    booking_id: UUID | None = None
    event_id: UUID | None = None
    created_at: UtcDateTime
    read_at: UtcDateTime | None
