"""The `user` shape of docs/api.md, the profile inputs, and the bodies of /api/auth."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from pydantic import Field, StringConstraints, field_validator

from ticketing.auth.password_rules import password_length_problem
from ticketing.models import ApiModel, UtcDateTime, example

PersonName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Phone = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\+?[0-9 ()./-]{5,40}$")]
Email = Annotated[str, StringConstraints(strip_whitespace=True, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]


# 8-72 bytes of UTF-8 (checked_password); the character bounds say the same for the OpenAPI document.
Password = Annotated[str, StringConstraints(min_length=2, max_length=72), Field(description="8-72 bytes of UTF-8")]


def checked_password(value: str) -> str:
    problem = password_length_problem(value)
    if problem:
        raise ValueError(problem)
    return value


class UserOut(ApiModel):
    id: UUID
    email: str
    name: str
    phone: str | None
    role: str
    created_at: UtcDateTime


class ProfileUpdate(ApiModel):
    model_config = example({"name": "Ada King", "phone": None})

    name: PersonName | None = None
    phone: Phone | None = Field(default=None, description="null clears the phone number")

    @field_validator("name")
    @classmethod
    def _name_cannot_be_cleared(cls, value: str | None) -> str | None:
        if value is None:
            raise ValueError("Name cannot be null.")
        return value


class PasswordChange(ApiModel):
    model_config = example({"currentPassword": "correct-horse-9", "newPassword": "battery-staple-10"})

    current_password: Annotated[str, StringConstraints(max_length=1024)]
    new_password: Password

    _check_new = field_validator("new_password")(checked_password)


# --- accounts: register, log in, refresh (/api/auth) ---------------------------------------------------

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
