"""Profile reads and updates."""

from __future__ import annotations

from ticketing.auth.principal import Principal
from ticketing.db import transaction
from ticketing.errors import Unauthorized
from ticketing.users import repository as users_repo
from ticketing.users.models import ProfileUpdate, UserOut


def get_profile(principal: Principal) -> UserOut:
    with transaction() as tx:
        user = users_repo.find_by_id(tx, principal.user_id)
    if user is None:
        raise Unauthorized("This account no longer exists.")
    return UserOut.from_row(user)


def update_profile(principal: Principal, update: ProfileUpdate) -> UserOut:
    changes = update.model_dump(exclude_unset=True)
    with transaction() as tx:
        user = users_repo.update_profile(tx, principal.user_id, changes)
    if user is None:
        raise Unauthorized("This account no longer exists.")
    return UserOut.from_row(user)
