"""The revocation check: the caller as the database knows them now, not as their access token says.

An access token lives ACCESS_TOKEN_TTL_SECONDS (15 minutes) and carries the role it was issued with. The calls
that matter (every role-gated call: ADMIN and ORGANIZER routes) confirm it against the account on each request,
so a demotion or a disabled account takes effect there at once; every other call trusts the token until it
expires, and a refresh is refused for a disabled account and carries the current role (docs/security.md).
"""

from __future__ import annotations

from ticketing.auth import repository
from ticketing.auth.principal import Principal, Role
from ticketing.db import transaction
from ticketing.errors import Unauthorized


def confirmed_principal(principal: Principal) -> Principal:
    """The caller with their current role; 401 when the account is disabled or gone."""
    with transaction() as tx:
        standing = repository.account_standing(tx, principal.user_id)
    if standing is None or standing["disabled"]:
        raise Unauthorized("This access token has been revoked; sign in again.")
    return Principal(user_id=principal.user_id, role=Role(standing["role"]))
