"""Authentication and role checks as Powertools dependencies: `caller: Annotated[Principal, Depends(...)]`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from aws_lambda_powertools.event_handler import Request
from aws_lambda_powertools.event_handler.depends import Depends

from ticketing.auth.principal import Principal, Role
from ticketing.auth.tokens import verify_access_token
from ticketing.errors import Forbidden, Unauthorized


def authenticated(request: Request) -> Principal:
    header = request.headers.get("authorization") or request.headers.get("Authorization") or ""
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Send `Authorization: Bearer <accessToken>`.")
    return verify_access_token(token.strip())


def optional_principal(request: Request) -> Principal | None:
    """The caller when a token is sent (a bad token is still a 401); None for anonymous calls."""
    if not (request.headers.get("authorization") or request.headers.get("Authorization")):
        return None
    return authenticated(request)


def require_roles(*roles: Role) -> Callable[[Request], Principal]:
    def caller_with_role(request: Request) -> Principal:
        principal = authenticated(request)
        if principal.role not in roles:
            raise Forbidden("Your role does not allow this.")
        return principal

    return caller_with_role


CurrentUser = Annotated[Principal, Depends(authenticated)]
MaybeUser = Annotated[Principal | None, Depends(optional_principal)]
Admin = Annotated[Principal, Depends(require_roles(Role.ADMIN))]
OrganizerOrAdmin = Annotated[Principal, Depends(require_roles(Role.ORGANIZER, Role.ADMIN))]
