"""AuthFunction: /api/auth/* (register, login, refresh-token, logout)."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response

from ticketing.auth import service
from ticketing.auth.models import LoginRequest, RefreshRequest, RegisterRequest, Session, TokenPair
from ticketing.http.resolver import create_resolver, lambda_entrypoint

app = create_resolver()


@app.post("/api/auth/register", summary="Create a USER account and sign in", status_code=201)
def register(body: RegisterRequest) -> Session:
    return service.register(body)


@app.post("/api/auth/login", summary="Sign in with email and password")
def login(body: LoginRequest) -> Session:
    return service.login(body)


@app.post("/api/auth/refresh-token", summary="Rotate a refresh token")
def refresh_token(body: RefreshRequest) -> TokenPair:
    return service.refresh(body.refresh_token)


@app.post("/api/auth/logout", summary="Revoke the refresh token's family")
def logout(body: RefreshRequest) -> Response[None]:
    service.logout(body.refresh_token)
    return Response(status_code=204)


lambda_handler = lambda_entrypoint(app)
