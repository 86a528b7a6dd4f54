"""Reading notifications and marking them read; other features add them with `repository.notify`."""

from __future__ import annotations

from uuid import UUID

from ticketing.auth.principal import Principal
from ticketing.db import transaction
from ticketing.errors import NotFound
from ticketing.http.paging import page_offset
from ticketing.models import Page
from ticketing.notifications import repository as notifications_repo
from ticketing.notifications.models import NotificationOut


def list_notifications(principal: Principal, *, unread_only: bool, page: int, page_size: int) -> Page[NotificationOut]:
    with transaction() as tx:
        rows, total = notifications_repo.list_for_user(
            tx, principal.user_id, unread_only=unread_only, limit=page_size, offset=page_offset(page, page_size)
        )
    return Page[NotificationOut](
        items=[NotificationOut.from_row(row) for row in rows], page=page, page_size=page_size, total=total
    )


def mark_read(principal: Principal, notification_id: UUID) -> None:
    """Idempotent. Another user's notification is reported exactly like a missing one."""
    with transaction() as tx:
        found = notifications_repo.mark_read(tx, principal.user_id, notification_id)
    if not found:
        raise NotFound("No such notification.")
