"""Events (docs/api.md): GET and POST /api/events/{id}/reviews."""

from __future__ import annotations

from typing import Any

import pytest

UNKNOWN_EVENT = "00000000-0000-4000-8000-000000000000"


def _reviews(event_id: str) -> str:
    return f"/api/events/{event_id}/reviews"


def _review_count(db: Any) -> int:
    return int(db.value("SELECT count(*) FROM reviews"))


def _attendee(accounts: Any, catalog: Any, event: Any) -> Any:
    """A customer with a CONFIRMED booking for the event."""
    customer = accounts.create()
    catalog.booking(event, customer.id, status="CONFIRMED")
    return customer


def _insert_review(db: Any, event_id: str, user_id: str, rating: int, *, minutes_ago: int = 0) -> str:
    return str(
        db.value(
            "INSERT INTO reviews (event_id, user_id, rating, comment, created_at)"
            " VALUES (:event_id, :user_id, :rating, 'Fine.', now() - make_interval(mins => :minutes_ago)) RETURNING id",
            event_id=event_id,
            user_id=user_id,
            rating=rating,
            minutes_ago=minutes_ago,
        )
    )


@pytest.fixture
def started_event(catalog: Any) -> Any:
    return catalog.event(starts_in_hours=-2)


def test_an_attendee_reviews_an_event_that_has_started(
    api: Any, db: Any, accounts: Any, catalog: Any, started_event: Any
) -> None:
    attendee = _attendee(accounts, catalog, started_event)

    response = api.post(
        _reviews(started_event.id), json={"rating": 4, "comment": "  Great sound.  "}, token=attendee.token
    )

    assert response.status == 201, response.body
    body = response.json()
    assert set(body) == {"id", "userId", "userName", "rating", "comment", "createdAt"}
    assert (body["userId"], body["rating"], body["comment"]) == (attendee.id, 4, "Great sound.")
    assert body["userName"] == db.value("SELECT name FROM users WHERE id = :id", id=attendee.id)
    assert body["createdAt"].endswith("Z")
    stored = db.rows("SELECT id, event_id, user_id, rating, comment FROM reviews")
    assert [(str(r["id"]), str(r["event_id"]), str(r["user_id"]), r["rating"], r["comment"]) for r in stored] == [
        (body["id"], started_event.id, attendee.id, 4, "Great sound.")
    ]


def test_a_review_without_a_comment_is_fine(api: Any, db: Any, accounts: Any, catalog: Any, started_event: Any) -> None:
    attendee = _attendee(accounts, catalog, started_event)

    response = api.post(_reviews(started_event.id), json={"rating": 5, "comment": "   "}, token=attendee.token)

    assert response.status == 201
    assert response.json()["comment"] is None
    assert db.value("SELECT comment FROM reviews") is None


def test_a_second_review_by_the_same_user_is_a_conflict(
    api: Any, db: Any, accounts: Any, catalog: Any, started_event: Any
) -> None:
    attendee = _attendee(accounts, catalog, started_event)
    assert api.post(_reviews(started_event.id), json={"rating": 4}, token=attendee.token).status == 201

    response = api.post(_reviews(started_event.id), json={"rating": 1}, token=attendee.token)

    assert response.status == 409
    assert response.error_code == "ALREADY_REVIEWED"
    assert db.value("SELECT rating FROM reviews") == 4


def test_someone_without_a_booking_cannot_review(api: Any, db: Any, accounts: Any, started_event: Any) -> None:
    response = api.post(_reviews(started_event.id), json={"rating": 5}, token=accounts.create().token)

    assert response.status == 403
    assert response.error_code == "REVIEW_NOT_ALLOWED"
    assert _review_count(db) == 0


@pytest.mark.parametrize("status", ["PENDING", "CANCELLED", "EXPIRED"])
def test_a_booking_that_is_not_confirmed_does_not_allow_a_review(
    api: Any, db: Any, accounts: Any, catalog: Any, started_event: Any, status: str
) -> None:
    customer = accounts.create()
    catalog.booking(started_event, customer.id, status=status)

    response = api.post(_reviews(started_event.id), json={"rating": 5}, token=customer.token)

    assert response.status == 403
    assert response.error_code == "REVIEW_NOT_ALLOWED"
    assert _review_count(db) == 0


def test_a_confirmed_booking_for_another_event_does_not_allow_a_review(
    api: Any, db: Any, accounts: Any, catalog: Any, started_event: Any
) -> None:
    attendee_elsewhere = _attendee(accounts, catalog, catalog.event(starts_in_hours=-2))

    response = api.post(_reviews(started_event.id), json={"rating": 5}, token=attendee_elsewhere.token)

    assert response.status == 403
    assert _review_count(db) == 0


def test_an_event_that_has_not_started_cannot_be_reviewed_yet(api: Any, db: Any, accounts: Any, catalog: Any) -> None:
    upcoming = catalog.event(starts_in_hours=2)
    ticket_holder = _attendee(accounts, catalog, upcoming)

    response = api.post(_reviews(upcoming.id), json={"rating": 5}, token=ticket_holder.token)

    assert response.status == 403
    assert response.error_code == "REVIEW_NOT_ALLOWED"
    assert _review_count(db) == 0


@pytest.mark.parametrize(
    ("body", "bad_field"),
    [
        ({"rating": 0}, "rating"),
        ({"rating": 6}, "rating"),
        ({"rating": "five"}, "rating"),
        ({}, "rating"),
        ({"rating": 3, "comment": "x" * 2001}, "comment"),
        ({"rating": 3, "stars": 3}, "stars"),
    ],
    ids=str,
)
def test_invalid_reviews_are_refused_naming_the_field(
    api: Any, db: Any, accounts: Any, catalog: Any, started_event: Any, body: dict[str, Any], bad_field: str
) -> None:
    attendee = _attendee(accounts, catalog, started_event)

    response = api.post(_reviews(started_event.id), json=body, token=attendee.token)

    assert response.status == 422
    assert bad_field in [problem["field"] for problem in response.json()["error"]["details"]["fields"]]
    assert _review_count(db) == 0


def test_reviewing_needs_a_token(api: Any, db: Any, started_event: Any) -> None:
    response = api.post(_reviews(started_event.id), json={"rating": 5})

    assert response.status == 401
    assert _review_count(db) == 0


def test_reviewing_an_unknown_event_is_not_found(api: Any, accounts: Any, db: Any) -> None:
    response = api.post(_reviews(UNKNOWN_EVENT), json={"rating": 5}, token=accounts.create().token)

    assert (response.status, response.error_code) == (404, "NOT_FOUND")
    assert db.value("SELECT count(*) FROM reviews") == 0


def test_anyone_lists_reviews_newest_first_with_the_average(
    api: Any, db: Any, accounts: Any, catalog: Any, started_event: Any
) -> None:
    ratings = [5, 4, 4]  # average 4.333… → 4.33
    ids = [
        _insert_review(db, started_event.id, accounts.create().id, rating, minutes_ago=minutes)
        for minutes, rating in enumerate(ratings)
    ]

    response = api.get(_reviews(started_event.id))

    assert response.status == 200
    body = response.json()
    assert [item["id"] for item in body["items"]] == ids
    assert (body["page"], body["pageSize"], body["total"]) == (1, 20, 3)
    assert (body["averageRating"], body["reviewCount"]) == (4.33, 3)
    assert set(body["items"][0]) == {"id", "userId", "userName", "rating", "comment", "createdAt"}


def test_the_average_covers_every_review_not_just_the_page(
    api: Any, db: Any, accounts: Any, started_event: Any
) -> None:
    for minutes, rating in enumerate([1, 2, 5]):
        _insert_review(db, started_event.id, accounts.create().id, rating, minutes_ago=minutes)

    response = api.get(_reviews(started_event.id), query={"page": 2, "pageSize": 2})

    body = response.json()
    assert [item["rating"] for item in body["items"]] == [5]
    assert (body["averageRating"], body["reviewCount"], body["total"]) == (2.67, 3, 3)


def test_an_event_without_reviews_has_no_average(api: Any, started_event: Any) -> None:
    response = api.get(_reviews(started_event.id))

    assert response.status == 200
    assert response.json() == {
        "items": [],
        "page": 1,
        "pageSize": 20,
        "total": 0,
        "averageRating": None,
        "reviewCount": 0,
    }


def test_reviews_of_a_draft_event_are_not_found(api: Any, catalog: Any) -> None:
    draft = catalog.event(status="DRAFT")

    response = api.get(_reviews(draft.id))

    assert response.status == 404
    assert response.error_code == "NOT_FOUND"


def test_reviews_of_an_unknown_event_are_not_found(api: Any) -> None:
    response = api.get(_reviews(UNKNOWN_EVENT))

    assert response.status == 404
    assert response.error_code == "NOT_FOUND"


def test_a_malformed_event_id_is_a_validation_error(api: Any, db: Any) -> None:
    response = api.get(_reviews("not-a-uuid"))

    assert response.status == 422
    assert response.error_code == "VALIDATION_ERROR"


@pytest.mark.parametrize("query", [{"pageSize": 0}, {"pageSize": 101}, {"page": -1}], ids=str)
def test_bad_paging_is_a_validation_error(api: Any, started_event: Any, query: dict[str, Any]) -> None:
    response = api.get(_reviews(started_event.id), query=query)

    assert response.status == 422
    assert response.error_code == "VALIDATION_ERROR"
