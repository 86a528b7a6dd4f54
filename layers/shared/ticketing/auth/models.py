"""Request and response bodies of /api/auth."""

from __future__ import annotations

from typing import Annotated

from pydantic import StringConstraints, field_validator

from ticketing.models import ApiModel
from ticketing.users.models import Email, PersonName, Phone, UserOut, checked_password

TokenText = Annotated[str, StringConstraints(min_length=1, max_length=512)]


class RegisterRequest(ApiModel):
    email: Email
    password: str
    name: PersonName
    phone: Phone | None = None

    _check_password = field_validator("password")(checked_password)


class LoginRequest(ApiModel):
    email: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=254)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=1024)]


class RefreshRequest(ApiModel):
    refresh_token: TokenText


class TokenPair(ApiModel):
    access_token: str
    refresh_token: str
    expires_in: int


class Session(TokenPair):
    user: UserOut
