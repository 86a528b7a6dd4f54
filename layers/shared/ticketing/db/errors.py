"""The one place where PostgreSQL errors become domain errors."""

from __future__ import annotations

from pg8000.exceptions import DatabaseError

from ticketing.errors import Conflict, DomainError, SeatsLocked, ServiceUnavailable, Unauthorized, ValidationFailed

LOCK_NOT_AVAILABLE = "55P03"
UNIQUE_VIOLATION = "23505"
FOREIGN_KEY_VIOLATION = "23503"
CHECK_VIOLATION = "23514"
SERIALIZATION_FAILURE = "40001"
DEADLOCK_DETECTED = "40P01"
QUERY_CANCELED = "57014"
INVALID_TEXT_REPRESENTATION = "22P02"
INVALID_PASSWORD = "28P01"

# Unique constraints whose violation is a conflict the client can act on, with the code it gets.
_UNIQUE_CONFLICTS: dict[str, tuple[str, str]] = {
    "users_email_lower_key": ("EMAIL_TAKEN", "An account with this email already exists."),
    "sections_venue_name_key": ("SECTION_NAME_TAKEN", "This venue already has a section with that name."),
    "coupons_code_key": ("COUPON_CODE_TAKEN", "A coupon with this code already exists."),
    "reviews_event_user_key": ("ALREADY_REVIEWED", "You have already reviewed this event."),
    "booking_items_live_seat_key": ("SEATS_UNAVAILABLE", "Some of these seats are already in another booking."),
}

# Foreign keys through which a request stores its caller's own id. Tokens are not looked up on every request,
# so violating one means the caller's account was deleted after the token was issued: 401, as docs/errors.md
# says for a deleted account's token. (tickets.holder_id is not here: a transfer's recipient is not the caller.)
CALLER_ACCOUNT_KEYS = frozenset(
    {
        "bookings_user_id_fkey",
        "coupon_redemptions_user_id_fkey",
        "coupons_created_by_fkey",
        "event_seats_held_by_fkey",
        "events_organizer_id_fkey",
        "idempotency_keys_user_id_fkey",
        "reviews_user_id_fkey",
        "tickets_checked_in_by_fkey",
    }
)


def sqlstate(error: DatabaseError) -> str | None:
    fields = error.args[0] if error.args and isinstance(error.args[0], dict) else {}
    code = fields.get("C")
    return str(code) if code else None


def constraint_name(error: DatabaseError) -> str | None:
    fields = error.args[0] if error.args and isinstance(error.args[0], dict) else {}
    name = fields.get("n")
    return str(name) if name else None


def is_login_refused(error: BaseException) -> bool:
    """Whether the server refused the password (28P01). pg8000 may report it as the network error of the
    connection the server then closed, with the server's answer as its context, so the chain is searched."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, DatabaseError) and sqlstate(seen) == INVALID_PASSWORD:
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def to_domain_error(error: DatabaseError) -> DomainError | None:
    """The domain error a database error means, or None when it is a bug that should surface as a 500."""
    code = sqlstate(error)
    if code == LOCK_NOT_AVAILABLE:
        return SeatsLocked()
    if code == UNIQUE_VIOLATION:
        name = constraint_name(error) or ""
        error_code, message = _UNIQUE_CONFLICTS.get(name, ("CONFLICT", "This conflicts with existing data."))
        return Conflict(message, code=error_code)
    if code == FOREIGN_KEY_VIOLATION and constraint_name(error) in CALLER_ACCOUNT_KEYS:
        return Unauthorized("This account no longer exists.")
    if code in (SERIALIZATION_FAILURE, DEADLOCK_DETECTED):
        return Conflict("Another request changed the same data; retry.", code="CONCURRENT_UPDATE")
    if code == QUERY_CANCELED:
        return ServiceUnavailable("The database took too long to answer; retry.")
    if code == INVALID_TEXT_REPRESENTATION:
        return ValidationFailed("A value has the wrong format.")
    return None
