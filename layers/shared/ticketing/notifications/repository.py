"""SQL for notifications."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from ticketing.db import Session


def notify(tx: Session, *, user_id: UUID, type: str, title: str, body: str, data: dict[str, Any]) -> None:
    """Adds a notification inside the caller's transaction, so it exists exactly when the change does."""
    tx.execute(
        "INSERT INTO notifications (user_id, type, title, body, data)"
        " VALUES (:user_id, :type, :title, :body, CAST(:data AS jsonb))",
        user_id=user_id,
        type=type,
        title=title,
        body=body,
        data=json.dumps(data, default=str),
    )
