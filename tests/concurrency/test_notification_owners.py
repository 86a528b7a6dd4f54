"""A notification written while its user is being deleted: the two serialise, and no notification outlives its
user (migration 0013, docs/decisions.md)."""

from __future__ import annotations

import threading
from typing import Any

from pg8000.exceptions import DatabaseError

from tests.concurrency.test_status_copies import _connect, _wait_until_blocked

_NOTIFY = "INSERT INTO notifications (user_id, type, title, body) VALUES (:user, 'TEST', 'Title', 'Body')"


def test_a_notification_written_while_its_user_is_deleted_is_refused_once_the_delete_commits(
    db: Any, accounts: Any, database_url: str
) -> None:
    # Given a user being deleted by a transaction that has not committed yet
    user = accounts.create()
    deleter, writer = _connect(database_url), _connect(database_url)
    outcome: dict[str, Any] = {}
    try:
        deleter.run("BEGIN")
        deleter.run("DELETE FROM users WHERE id = :id", id=user.id)
        writer_pid = writer.run("SELECT pg_backend_pid()")[0][0]

        def notify() -> None:
            try:
                writer.run(_NOTIFY, user=user.id)
            except DatabaseError as error:
                outcome["error"] = (error.args[0]["C"], error.args[0].get("n"))

        # When a notification for that user is written, and the delete then commits
        thread = threading.Thread(target=notify)
        thread.start()
        _wait_until_blocked(db, writer_pid)
        deleter.run("COMMIT")
        thread.join(timeout=60)
    finally:
        deleter.close()
        writer.close()

    # Then the notification waited for the delete and was refused under the foreign key's name
    assert outcome == {"error": ("23503", "notifications_user_id_fkey")}
    assert db.value("SELECT count(*) FROM notifications WHERE user_id = :id", id=user.id) == 0


def test_a_user_deleted_after_a_notification_was_written_takes_it_along(
    db: Any, accounts: Any, database_url: str
) -> None:
    # Given a notification written by a transaction that has not committed yet
    user = accounts.create()
    writer, deleter = _connect(database_url), _connect(database_url)
    try:
        writer.run("BEGIN")
        writer.run(_NOTIFY, user=user.id)
        deleter_pid = deleter.run("SELECT pg_backend_pid()")[0][0]

        # When the user is deleted meanwhile, and the notification then commits
        thread = threading.Thread(target=lambda: deleter.run("DELETE FROM users WHERE id = :id", id=user.id))
        thread.start()
        _wait_until_blocked(db, deleter_pid)
        writer.run("COMMIT")
        thread.join(timeout=60)
    finally:
        writer.close()
        deleter.close()

    # Then the delete waited for the notification and deleted it with the user
    assert db.value("SELECT count(*) FROM users WHERE id = :id", id=user.id) == 0
    assert db.value("SELECT count(*) FROM notifications WHERE user_id = :id", id=user.id) == 0
