"""SQLSTATE codes become domain errors in one place."""

from __future__ import annotations

from pg8000.exceptions import DatabaseError

from ticketing.db.errors import to_domain_error


def _error(code: str, constraint: str | None = None) -> DatabaseError:
    fields = {"C": code, "M": "message"}
    if constraint:
        fields["n"] = constraint
    return DatabaseError(fields)


def test_lock_not_available_is_seats_locked_with_retry_after() -> None:
    error = to_domain_error(_error("55P03"))

    assert error is not None
    assert (error.status, error.code, error.headers) == (409, "SEATS_LOCKED", {"Retry-After": "1"})


def test_a_duplicate_email_is_email_taken() -> None:
    error = to_domain_error(_error("23505", "users_email_lower_key"))

    assert error is not None
    assert (error.status, error.code) == (409, "EMAIL_TAKEN")


def test_an_unknown_unique_violation_is_a_generic_conflict() -> None:
    error = to_domain_error(_error("23505", "something_else_key"))

    assert error is not None
    assert (error.status, error.code) == (409, "CONFLICT")


def test_a_syntax_error_is_a_bug_not_a_domain_error() -> None:
    assert to_domain_error(_error("42601")) is None
