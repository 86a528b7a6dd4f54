"""UsersFunction: /api/users/* (profile, password)."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response

from ticketing.auth import service as auth_service
from ticketing.http.resolver import create_resolver, lambda_entrypoint
from ticketing.http.security import CurrentUser
from ticketing.users import service
from ticketing.users.models import PasswordChange, ProfileUpdate, UserOut

app = create_resolver()


@app.get("/api/users/profile", summary="The caller's profile")
def get_profile(caller: CurrentUser) -> UserOut:
    return service.get_profile(caller)


@app.put("/api/users/profile", summary="Update name or phone")
def update_profile(body: ProfileUpdate, caller: CurrentUser) -> UserOut:
    return service.update_profile(caller, body)


@app.put("/api/users/change-password", summary="Change password; signs out every session")
def change_password(body: PasswordChange, caller: CurrentUser) -> Response[None]:
    auth_service.change_password(caller, body)
    return Response(status_code=204)


lambda_handler = lambda_entrypoint(app)
