"""Domain errors. Each carries the HTTP status and error code of docs/errors.md, so one handler maps them all."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    status = 400
    code = "BAD_REQUEST"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details = details or {}
        self.headers = headers or {}


class Unauthorized(DomainError):
    status = 401
    code = "UNAUTHORIZED"


class InvalidCredentials(Unauthorized):
    code = "INVALID_CREDENTIALS"

    def __init__(self, message: str = "Email or password is incorrect.") -> None:
        super().__init__(message)


class TokenExpired(Unauthorized):
    code = "TOKEN_EXPIRED"


class PaymentDeclined(DomainError):
    status = 402
    code = "PAYMENT_DECLINED"


class Forbidden(DomainError):
    status = 403
    code = "FORBIDDEN"

    def __init__(self, message: str = "You are not allowed to do this.", **kwargs: Any) -> None:
        super().__init__(message, **kwargs)


class NotFound(DomainError):
    status = 404
    code = "NOT_FOUND"


class Conflict(DomainError):
    """A state conflict; subclasses and the `code` argument name which one."""

    status = 409
    code = "CONFLICT"


class SeatsLocked(Conflict):
    code = "SEATS_LOCKED"

    def __init__(self, message: str = "Some of these seats are being booked right now; retry in a second.") -> None:
        super().__init__(message, headers={"Retry-After": "1"})


class PreconditionFailed(DomainError):
    status = 412
    code = "PRECONDITION_FAILED"


class PayloadTooLarge(DomainError):
    status = 413
    code = "PAYLOAD_TOO_LARGE"


class ValidationFailed(DomainError):
    """Well-formed input that breaks a rule only the domain can check."""

    status = 422
    code = "VALIDATION_ERROR"

    @classmethod
    def for_field(cls, field: str, message: str, *, code: str | None = None) -> ValidationFailed:
        return cls(message, code=code, details={"fields": [{"field": field, "message": message}]})


class RateLimited(DomainError):
    """Too many calls of one kind from one account or address (docs/security.md, "Rate limits")."""

    status = 429
    code = "RATE_LIMITED"

    def __init__(self, message: str, *, retry_after_seconds: int, details: dict[str, Any] | None = None) -> None:
        super().__init__(message, details=details, headers={"Retry-After": str(max(1, retry_after_seconds))})


class ServiceUnavailable(DomainError):
    status = 503
    code = "SERVICE_UNAVAILABLE"


class InvalidJson(DomainError):
    """The body is not JSON we accept: not UTF-8, not JSON, NaN/Infinity, or nested too deeply."""

    status = 400
    code = "INVALID_JSON"


class UnsupportedMediaType(DomainError):
    status = 415
    code = "UNSUPPORTED_MEDIA_TYPE"
