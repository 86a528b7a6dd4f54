"""Request and response bodies of /api/auth."""

from __future__ import annotations

from typing import Annotated

from pydantic import StringConstraints, field_validator

from ticketing.models import ApiModel, example
from ticketing.users.models import Email, Password, PersonName, Phone, UserOut, checked_password

TokenText = Annotated[str, StringConstraints(min_length=1, max_length=512)]


class RegisterRequest(ApiModel):
    model_config = example(
        {"email": "ada@example.com", "password": "correct-horse-9", "name": "Ada Lovelace", "phone": "+44 20 7946 0958"}
    )

    email: Email
    password: Password
    name: PersonName
    phone: Phone | None = None

    _check_password = field_validator("password")(checked_password)


class LoginRequest(ApiModel):
    model_config = example({"email": "customer@example.com", "password": "demo-password"})

    email: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=254)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=1024)]


class RefreshRequest(ApiModel):
    model_config = example({"refreshToken": "<refreshToken from login>"})

    refresh_token: TokenText


class TokenPair(ApiModel):
    access_token: str
    refresh_token: str
    expires_in: int


class Session(TokenPair):
    user: UserOut
