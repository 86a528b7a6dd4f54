"""The one place where PostgreSQL errors become domain errors."""

from __future__ import annotations

from pg8000.exceptions import DatabaseError

from ticketing.errors import Conflict, DomainError, SeatsLocked, ServiceUnavailable, ValidationFailed

LOCK_NOT_AVAILABLE = "55P03"
UNIQUE_VIOLATION = "23505"
FOREIGN_KEY_VIOLATION = "23503"
CHECK_VIOLATION = "23514"
SERIALIZATION_FAILURE = "40001"
DEADLOCK_DETECTED = "40P01"
QUERY_CANCELED = "57014"
INVALID_TEXT_REPRESENTATION = "22P02"

# Unique constraints whose violation is a conflict the client can act on, with the code it gets.
_UNIQUE_CONFLICTS: dict[str, tuple[str, str]] = {
    "users_email_lower_key": ("EMAIL_TAKEN", "An account with this email already exists."),
    "sections_venue_name_key": ("SECTION_NAME_TAKEN", "This venue already has a section with that name."),
    "coupons_code_key": ("COUPON_CODE_TAKEN", "A coupon with this code already exists."),
    "reviews_event_user_key": ("ALREADY_REVIEWED", "You have already reviewed this event."),
    "booking_items_live_seat_key": ("SEATS_UNAVAILABLE", "Some of these seats are already in another booking."),
}


def sqlstate(error: DatabaseError) -> str | None:
    fields = error.args[0] if error.args and isinstance(error.args[0], dict) else {}
    code = fields.get("C")
    return str(code) if code else None


def constraint_name(error: DatabaseError) -> str | None:
    fields = error.args[0] if error.args and isinstance(error.args[0], dict) else {}
    name = fields.get("n")
    return str(name) if name else None


def to_domain_error(error: DatabaseError) -> DomainError | None:
    """The domain error a database error means, or None when it is a bug that should surface as a 500."""
    code = sqlstate(error)
    if code == LOCK_NOT_AVAILABLE:
        return SeatsLocked()
    if code == UNIQUE_VIOLATION:
        name = constraint_name(error) or ""
        error_code, message = _UNIQUE_CONFLICTS.get(name, ("CONFLICT", "This conflicts with existing data."))
        return Conflict(message, code=error_code)
    if code in (SERIALIZATION_FAILURE, DEADLOCK_DETECTED):
        return Conflict("Another request changed the same data; retry.", code="CONCURRENT_UPDATE")
    if code == QUERY_CANCELED:
        return ServiceUnavailable("The database took too long to answer; retry.")
    if code == INVALID_TEXT_REPRESENTATION:
        return ValidationFailed("A value has the wrong format.")
    return None
