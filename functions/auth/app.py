"""AuthFunction: /api/auth/* (register, login, refresh-token, logout)."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response

from ticketing import rate_limits
from ticketing.http.limits import ClientAddress
from ticketing.http.operations import answers
from ticketing.http.resolver import create_resolver, lambda_entrypoint
from ticketing.http.tags import ApiTag
from ticketing.users import accounts
from ticketing.users.models import LoginRequest, RefreshRequest, RegisterRequest, Session, TokenPair

app = create_resolver(tag=ApiTag.AUTH)


@app.post("/api/auth/register", summary="Create a USER account and sign in", status_code=201)
@answers(Session, status=201, errors={409: ["EMAIL_TAKEN"]})
def register(body: RegisterRequest, client: ClientAddress) -> Session:
    """Registers a customer (role USER) and returns a session. Emails compare case-insensitively; the password
    is 8-72 bytes (UTF-8)."""
    return accounts.register(body)


@app.post("/api/auth/login", summary="Sign in with email and password")
@answers(Session, errors={401: ["INVALID_CREDENTIALS"]})
def login(body: LoginRequest, client: ClientAddress) -> Session:
    """The same answer for an unknown email and a wrong password. The access token goes into
    `Authorization: Bearer <accessToken>` (the Authorize button of /api/docs). After
    LOGIN_FAILURES_BEFORE_DELAY wrong passwords in a row from one address, that address waits (429, Retry-After)."""
    with rate_limits.login_attempts(body.email, client):
        return accounts.login(body)


@app.post("/api/auth/refresh-token", summary="Rotate a refresh token")
@answers(TokenPair, errors={401: ["UNAUTHORIZED", "TOKEN_EXPIRED"]})
def refresh_token(body: RefreshRequest, client: ClientAddress) -> TokenPair:
    """Each refresh token works once; presenting a used one revokes its whole family."""
    return accounts.refresh(body.refresh_token)


@app.post("/api/auth/logout", summary="Revoke the refresh token's family")
@answers(None, status=204, errors={401: ["UNAUTHORIZED"]}, description="Signed out")
def logout(body: RefreshRequest) -> Response[None]:
    """Takes the refresh token as the credential, so an expired session can still sign out; logging out twice
    is harmless."""
    accounts.logout(body.refresh_token)
    return Response(status_code=204)


lambda_handler = lambda_entrypoint(app)
