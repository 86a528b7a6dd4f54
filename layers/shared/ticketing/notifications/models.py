"""The notification shape of /api/users/notifications."""

from __future__ import annotations

from uuid import UUID

from ticketing.models import ApiModel, UtcDateTime


class NotificationOut(ApiModel):
    id: UUID
    type: str
    title: str
    body: str
    created_at: UtcDateTime
    read_at: UtcDateTime | None
