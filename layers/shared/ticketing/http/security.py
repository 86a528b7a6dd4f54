"""Authentication and role checks as Powertools dependencies: `caller: Annotated[Principal, Depends(...)]`."""

# Annotations stay real objects (no `from __future__ import annotations`): Powertools reads the type hints
# of these dependencies on every request; strings would be compiled and evaluated each time.

from collections.abc import Callable
from typing import Annotated, Any, get_args, get_origin, get_type_hints

from aws_lambda_powertools.event_handler import Request
from aws_lambda_powertools.event_handler.depends import Depends

from ticketing.auth.principal import Principal, Role
from ticketing.errors import DomainError, Forbidden, Unauthorized


def _checks_caller[CallerCheck: Callable[..., Any]](dependency: CallerCheck) -> CallerCheck:
    # Marks the dependencies that identify the caller; see caller_rejection.
    dependency.checks_caller = True  # type: ignore[attr-defined]
    return dependency


@_checks_caller
def authenticated(request: Request) -> Principal:
    header = request.headers.get("authorization") or request.headers.get("Authorization") or ""
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Send `Authorization: Bearer <accessToken>`.")
    # Imported on first use: a function without authenticated routes (the docs) never loads PyJWT.
    from ticketing.auth.tokens import verify_access_token

    return verify_access_token(token.strip())


@_checks_caller
def optional_principal(request: Request) -> Principal | None:
    """The caller when a token is sent (a bad token is still a 401); None for anonymous calls."""
    if not (request.headers.get("authorization") or request.headers.get("Authorization")):
        return None
    return authenticated(request)


optional_principal.caller_optional = True  # type: ignore[attr-defined]


def require_roles(*roles: Role) -> Callable[[Request], Principal]:
    """The caller, when their account's current role is one of `roles`: the role the database holds now, not
    the one in the token (ticketing.auth.standing), so a demotion or a disabled account counts at once."""

    @_checks_caller
    def caller_with_role(request: Request) -> Principal:
        from ticketing.auth.standing import confirmed_principal

        principal = confirmed_principal(authenticated(request))
        if principal.role not in roles:
            raise Forbidden("Your role does not allow this.")
        return principal

    caller_with_role.checks_role = True  # type: ignore[attr-defined]
    return caller_with_role


def caller_rejection(route_handler: Callable[..., Any], request: Request) -> DomainError | None:
    """Why the route's caller checks refuse this request (401/403), or None.

    Powertools validates the request before it resolves dependencies; this lets a bad request from a
    caller who may not call the route at all be answered 401/403 rather than 422.
    """
    for annotation in get_type_hints(route_handler, include_extras=True).values():
        if get_origin(annotation) is not Annotated:
            continue
        for metadata in get_args(annotation)[1:]:
            if isinstance(metadata, Depends) and getattr(metadata.dependency, "checks_caller", False):
                try:
                    metadata.dependency(request)
                except DomainError as error:
                    return error
    return None


CurrentUser = Annotated[Principal, Depends(authenticated)]
MaybeUser = Annotated[Principal | None, Depends(optional_principal)]
Admin = Annotated[Principal, Depends(require_roles(Role.ADMIN))]
OrganizerOrAdmin = Annotated[Principal, Depends(require_roles(Role.ORGANIZER, Role.ADMIN))]
