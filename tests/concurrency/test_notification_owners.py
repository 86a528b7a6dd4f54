"""A notification written while its user is being deleted: the two serialise, and no notification outlives its
user (migration 0013, docs/decisions.md)."""

from __future__ import annotations

from typing import Any

from tests.concurrency.two_sessions import commit_while_blocked, connect

_NOTIFY = "INSERT INTO notifications (user_id, type, title, body) VALUES (:user, 'TEST', 'Title', 'Body')"


def test_a_notification_written_while_its_user_is_deleted_is_refused_once_the_delete_commits(
    db: Any, accounts: Any
) -> None:
    # Given a user being deleted by a transaction that has not committed yet
    user = accounts.create()
    deleter, writer = connect(), connect()
    try:
        deleter.run("BEGIN")
        deleter.run("DELETE FROM users WHERE id = :id", id=user.id)

        # When a notification for that user is written, and the delete then commits
        failure = commit_while_blocked(db, deleter, writer, lambda session: session.run(_NOTIFY, user=user.id))
    finally:
        deleter.close()
        writer.close()

    # Then the notification waited for the delete and was refused under the foreign key's name
    assert failure is not None
    assert (failure["C"], failure.get("n")) == ("23503", "notifications_user_id_fkey")
    assert db.value("SELECT count(*) FROM notifications WHERE user_id = :id", id=user.id) == 0


def test_a_user_deleted_after_a_notification_was_written_takes_it_along(db: Any, accounts: Any) -> None:
    # Given a notification written by a transaction that has not committed yet
    user = accounts.create()
    writer, deleter = connect(), connect()
    try:
        writer.run("BEGIN")
        writer.run(_NOTIFY, user=user.id)

        # When the user is deleted meanwhile, and the notification then commits
        failure = commit_while_blocked(
            db, writer, deleter, lambda session: session.run("DELETE FROM users WHERE id = :id", id=user.id)
        )
    finally:
        writer.close()
        deleter.close()

    # Then the delete waited for the notification and deleted it with the user
    assert failure is None
    assert db.value("SELECT count(*) FROM users WHERE id = :id", id=user.id) == 0
    assert db.value("SELECT count(*) FROM notifications WHERE user_id = :id", id=user.id) == 0
