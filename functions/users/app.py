"""UsersFunction: /api/users/* (profile, password, notifications)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from ticketing.http.operations import answers
from ticketing.http.paging import PageNumber, PageSize
from ticketing.http.resolver import create_resolver, lambda_entrypoint
from ticketing.http.security import CurrentUser
from ticketing.http.tags import ApiTag
from ticketing.models import Page
from ticketing.notifications import service as notifications_service
from ticketing.notifications.models import NotificationOut
from ticketing.users import accounts, service
from ticketing.users.models import PasswordChange, ProfileUpdate, UserOut

app = create_resolver(tag=ApiTag.USERS)


@app.get("/api/users/profile", summary="The caller's profile")
def get_profile(caller: CurrentUser) -> UserOut:
    """The signed-in user's account."""
    return service.get_profile(caller)


@app.put("/api/users/profile", summary="Update name or phone")
def update_profile(body: ProfileUpdate, caller: CurrentUser) -> UserOut:
    """Changes the fields sent; `phone: null` clears the phone number."""
    return service.update_profile(caller, body)


@app.put("/api/users/change-password", summary="Change password; signs out every session")
@answers(None, status=204, errors={401: ["INVALID_CREDENTIALS"]}, description="Password changed")
def change_password(body: PasswordChange, caller: CurrentUser) -> Response[None]:
    """Needs the current password; every refresh token of the user is revoked."""
    accounts.change_password(caller, body)
    return Response(status_code=204)


@app.get("/api/users/notifications", summary="The caller's notifications, newest first")
def list_notifications(
    caller: CurrentUser,
    unread: Annotated[bool, Query(description="only unread ones")] = False,
    page: PageNumber = 1,
    page_size: PageSize = 20,
) -> Page[NotificationOut]:
    """Newest first; `unread=true` lists only unread ones."""
    return notifications_service.list_notifications(caller, unread_only=unread, page=page, page_size=page_size)


@app.post("/api/users/notifications/<notification_id>/read", summary="Mark a notification read")
@answers(None, status=204, errors={404: ["NOT_FOUND"]}, description="Marked read")
def mark_notification_read(notification_id: UUID, caller: CurrentUser) -> Response[None]:
    """Idempotent: keeps the first read time. Another user's notification is a 404 like a missing one."""
    notifications_service.mark_read(caller, notification_id)
    return Response(status_code=204)


lambda_handler = lambda_entrypoint(app)
