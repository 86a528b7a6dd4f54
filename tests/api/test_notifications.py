"""Users (docs/api.md): GET /api/users/notifications and POST /api/users/notifications/{id}/read."""

from __future__ import annotations

from typing import Any

import pytest

NOTIFICATIONS = "/api/users/notifications"


def _notify(db: Any, user_id: str, title: str, *, minutes_ago: int, read: bool = False) -> str:
    return str(
        db.value(
            "INSERT INTO notifications (user_id, type, title, body, created_at, read_at)"
            " VALUES (:user_id, 'BOOKING_EXPIRED', :title, 'Your booking expired.',"
            " now() - make_interval(mins => :minutes_ago), CASE WHEN :read THEN now() END) RETURNING id",
            user_id=user_id,
            title=title,
            minutes_ago=minutes_ago,
            read=read,
        )
    )


def test_a_user_lists_their_notifications_newest_first(api: Any, db: Any, accounts: Any) -> None:
    user = accounts.create()
    older = _notify(db, user.id, "Older", minutes_ago=10, read=True)
    newer = _notify(db, user.id, "Newer", minutes_ago=1)
    _notify(db, accounts.create().id, "Someone else's", minutes_ago=5)

    response = api.get(NOTIFICATIONS, token=user.token)

    assert response.status == 200
    body = response.json()
    assert [item["id"] for item in body["items"]] == [newer, older]
    assert (body["page"], body["pageSize"], body["total"]) == (1, 20, 2)
    first = body["items"][0]
    assert set(first) == {"id", "type", "title", "body", "createdAt", "readAt", "bookingId", "eventId"}
    assert (first["bookingId"], first["eventId"]) == (None, None)
    assert (first["type"], first["title"], first["body"], first["readAt"]) == (
        "BOOKING_EXPIRED",
        "Newer",
        "Your booking expired.",
        None,
    )
    assert first["createdAt"].endswith("Z")
    assert body["items"][1]["readAt"].endswith("Z")


def test_unread_true_lists_only_unread_notifications(api: Any, db: Any, accounts: Any) -> None:
    user = accounts.create()
    _notify(db, user.id, "Read", minutes_ago=10, read=True)
    unread = _notify(db, user.id, "Unread", minutes_ago=20)

    response = api.get(NOTIFICATIONS, token=user.token, query={"unread": "true"})

    assert response.status == 200
    assert [item["id"] for item in response.json()["items"]] == [unread]
    assert response.json()["total"] == 1


def test_unread_false_lists_everything(api: Any, db: Any, accounts: Any) -> None:
    user = accounts.create()
    _notify(db, user.id, "Read", minutes_ago=10, read=True)
    _notify(db, user.id, "Unread", minutes_ago=20)

    response = api.get(NOTIFICATIONS, token=user.token, query={"unread": "false"})

    assert response.json()["total"] == 2


def test_notifications_are_paged(api: Any, db: Any, accounts: Any) -> None:
    user = accounts.create()
    ids = [_notify(db, user.id, f"N{minutes}", minutes_ago=minutes) for minutes in range(5)]

    response = api.get(NOTIFICATIONS, token=user.token, query={"page": 2, "pageSize": 2})

    body = response.json()
    assert [item["id"] for item in body["items"]] == ids[2:4]
    assert (body["page"], body["pageSize"], body["total"]) == (2, 2, 5)


def test_an_empty_inbox_is_an_empty_page(api: Any, accounts: Any) -> None:
    response = api.get(NOTIFICATIONS, token=accounts.create().token)

    assert response.status == 200
    assert response.json() == {"items": [], "page": 1, "pageSize": 20, "total": 0}


@pytest.mark.parametrize("query", [{"unread": "maybe"}, {"pageSize": 101}, {"page": 0}], ids=str)
def test_bad_list_parameters_are_a_validation_error(api: Any, accounts: Any, query: dict[str, Any]) -> None:
    response = api.get(NOTIFICATIONS, token=accounts.create().token, query=query)

    assert response.status == 422
    assert response.error_code == "VALIDATION_ERROR"


def test_listing_notifications_needs_a_token(api: Any) -> None:
    response = api.get(NOTIFICATIONS)

    assert response.status == 401
    assert response.error_code == "UNAUTHORIZED"


def test_marking_a_notification_read_sets_read_at(api: Any, db: Any, accounts: Any) -> None:
    user = accounts.create()
    notification = _notify(db, user.id, "Hello", minutes_ago=1)

    response = api.post(f"{NOTIFICATIONS}/{notification}/read", token=user.token)

    assert response.status == 204
    assert response.body == b""
    assert db.value("SELECT read_at IS NOT NULL FROM notifications WHERE id = :id", id=notification) is True


def test_marking_read_twice_keeps_the_first_read_time(api: Any, db: Any, accounts: Any) -> None:
    user = accounts.create()
    notification = _notify(db, user.id, "Hello", minutes_ago=1)
    assert api.post(f"{NOTIFICATIONS}/{notification}/read", token=user.token).status == 204
    first_read = db.value("SELECT read_at FROM notifications WHERE id = :id", id=notification)

    response = api.post(f"{NOTIFICATIONS}/{notification}/read", token=user.token)

    assert response.status == 204
    assert db.value("SELECT read_at FROM notifications WHERE id = :id", id=notification) == first_read


def test_someone_elses_notification_is_not_found_and_stays_unread(api: Any, db: Any, accounts: Any) -> None:
    owner = accounts.create()
    notification = _notify(db, owner.id, "Private", minutes_ago=1)

    response = api.post(f"{NOTIFICATIONS}/{notification}/read", token=accounts.create().token)

    assert response.status == 404
    assert response.error_code == "NOT_FOUND"
    assert db.value("SELECT read_at FROM notifications WHERE id = :id", id=notification) is None


def test_an_unknown_notification_is_not_found(api: Any, accounts: Any) -> None:
    response = api.post(f"{NOTIFICATIONS}/00000000-0000-4000-8000-000000000000/read", token=accounts.create().token)

    assert response.status == 404
    assert response.error_code == "NOT_FOUND"


def test_a_malformed_notification_id_is_a_validation_error(api: Any, accounts: Any) -> None:
    response = api.post(f"{NOTIFICATIONS}/not-a-uuid/read", token=accounts.create().token)

    assert response.status == 422
    assert response.error_code == "VALIDATION_ERROR"


def test_marking_read_needs_a_token(api: Any, db: Any, accounts: Any) -> None:
    notification = _notify(db, accounts.create().id, "Hello", minutes_ago=1)

    response = api.post(f"{NOTIFICATIONS}/{notification}/read")

    assert response.status == 401
    assert db.value("SELECT read_at FROM notifications WHERE id = :id", id=notification) is None
