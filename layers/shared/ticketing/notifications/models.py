"""The notification shape of /api/users/notifications."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from ticketing.models import ApiModel, UtcDateTime


class NotificationOut(ApiModel):
    id: UUID
    type: str
    title: str
    body: str
    created_at: UtcDateTime
    read_at: UtcDateTime | None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> NotificationOut:
        return cls.model_validate({name: row[name] for name in cls.model_fields})
