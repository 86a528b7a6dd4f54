"""Accounts: registration, login, refresh-token rotation with reuse detection, logout, password change.

They use the auth plumbing (passwords, tokens, the refresh-token store); auth imports nothing of users."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

from ticketing.auth import repository as tokens_repo
from ticketing.auth.passwords import burn_password_check, hash_password, verify_password
from ticketing.auth.principal import Principal, Role
from ticketing.auth.tokens import issue_access_token, new_refresh_token, refresh_token_hash
from ticketing.config import get_settings
from ticketing.db import Session as Tx
from ticketing.db import transaction
from ticketing.errors import InvalidCredentials, TokenExpired, Unauthorized
from ticketing.observability import logger
from ticketing.users import repository as users_repo
from ticketing.users.models import LoginRequest, PasswordChange, RegisterRequest, Session, TokenPair, UserOut


def _issue_tokens(tx: Tx, principal: Principal, family_id: UUID) -> TokenPair:
    settings = get_settings()
    refresh_token = new_refresh_token()
    tokens_repo.insert_refresh_token(
        tx,
        user_id=principal.user_id,
        family_id=family_id,
        token_hash=refresh_token_hash(refresh_token),
        expires_at=datetime.now(UTC) + timedelta(seconds=settings.refresh_token_ttl_seconds),
    )
    return TokenPair(
        access_token=issue_access_token(principal),
        refresh_token=refresh_token,
        expires_in=settings.access_token_ttl_seconds,
    )


def _session_for(tx: Tx, user: dict[str, object]) -> Session:
    principal = Principal(user_id=user["id"], role=Role(user["role"]))  # type: ignore[arg-type]
    tokens = _issue_tokens(tx, principal, family_id=uuid4())
    return Session(user=UserOut.from_row(user), **tokens.model_dump())


def register(request: RegisterRequest) -> Session:
    """Creates a USER account (never any other role) and signs it in."""
    password_hash = hash_password(request.password)
    with transaction() as tx:
        user = users_repo.insert_user(
            tx,
            email=request.email,
            password_hash=password_hash,
            name=request.name,
            phone=request.phone,
            role=Role.USER.value,
        )
        return _session_for(tx, user)


def login(request: LoginRequest) -> Session:
    with transaction() as tx:
        user = users_repo.find_by_email(tx, request.email)
    if user is None:
        burn_password_check(request.password)
        raise InvalidCredentials()
    if not verify_password(request.password, user["password_hash"]):
        raise InvalidCredentials()
    if user["disabled_at"] is not None:
        raise Unauthorized("This account is disabled.")
    with transaction() as tx:
        return _session_for(tx, user)


def refresh(refresh_token: str) -> TokenPair:
    """Rotates a refresh token. A token presented twice means it leaked: its whole family is revoked."""
    reused_family: UUID | None = None
    with transaction() as tx:
        token = tokens_repo.lock_refresh_token(tx, refresh_token_hash(refresh_token))
        if token is None or token["revoked_at"] is not None:
            raise Unauthorized("The refresh token is not valid.")
        if token["used_at"] is not None:
            tokens_repo.revoke_family(tx, token["family_id"])
            reused_family = token["family_id"]
        elif token["expired"]:
            raise TokenExpired("The refresh token has expired; sign in again.")
        else:
            user = users_repo.find_by_id(tx, token["user_id"])
            if user is None or user["disabled_at"] is not None:
                raise Unauthorized("The refresh token is not valid.")
            tokens_repo.mark_used(tx, token["id"])
            principal = Principal(user_id=user["id"], role=Role(user["role"]))
            return _issue_tokens(tx, principal, family_id=token["family_id"])
    # Raised after the commit, so the revocation sticks.
    logger.warning("refresh token reused; family revoked", extra={"familyId": str(reused_family)})
    raise Unauthorized("This refresh token was already used; sign in again.")


def logout(refresh_token: str) -> None:
    with transaction() as tx:
        token = tokens_repo.lock_refresh_token(tx, refresh_token_hash(refresh_token))
        if token is None:
            raise Unauthorized("The refresh token is not valid.")
        tokens_repo.revoke_family(tx, token["family_id"])


def change_password(principal: Principal, request: PasswordChange) -> None:
    with transaction() as tx:
        user = users_repo.find_by_id(tx, principal.user_id)
    if user is None:
        raise Unauthorized("This account no longer exists.")
    if not verify_password(request.current_password, user["password_hash"]):
        raise InvalidCredentials("The current password is incorrect.")
    new_hash = hash_password(request.new_password)
    with transaction() as tx:
        users_repo.update_password(tx, principal.user_id, new_hash)
        tokens_repo.revoke_all_for_user(tx, principal.user_id)
