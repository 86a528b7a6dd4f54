"""Two database sessions racing for one row lock: the tests that prove a statement waits for another
transaction and then decides on what it committed."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from typing import Any

import pg8000.native
from pg8000.exceptions import DatabaseError

from ticketing.db.dsn import parse_database_url

_WAIT_POLLS = 500


def connect() -> pg8000.native.Connection:
    """A session as the functions open one: the application role (DATABASE_URL), which also lets `db` see what
    it waits for in pg_stat_activity (a role sees only its own sessions' wait events)."""
    return pg8000.native.Connection(**parse_database_url(os.environ["DATABASE_URL"]).as_pg8000_kwargs())


def _wait_until_blocked(db: Any, pid: int) -> None:
    for _ in range(_WAIT_POLLS):
        if db.value("SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = :pid", pid=pid):
            return
        time.sleep(0.01)
    raise AssertionError("the second session never waited for the first")


def wait_until_sessions_wait(db: Any, count: int, statement_containing: str) -> None:
    """Waits (bounded) until `count` sessions at once are blocked on a lock while running a statement whose
    text contains `statement_containing`: the proof that that many contenders are in flight together."""
    waiting = 0
    for _ in range(_WAIT_POLLS):
        waiting = int(
            db.value(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                " AND strpos(query, :statement) > 0 AND pid <> pg_backend_pid()",
                statement=statement_containing,
            )
        )
        if waiting >= count:
            return
        time.sleep(0.01)
    raise AssertionError(f"only {waiting} of {count} sessions ever waited together")


def commit_while_blocked(
    db: Any,
    holder: pg8000.native.Connection,
    waiter: pg8000.native.Connection,
    action: Callable[[pg8000.native.Connection], Any],
) -> dict[str, Any] | None:
    """Runs `action` with `waiter`'s session, waits until it is blocked on a lock `holder`'s open transaction
    holds, commits that transaction, and answers the error the action then failed with (PostgreSQL's fields:
    `C` the SQLSTATE, `n` the constraint), or None when it succeeded."""
    waiter_pid = waiter.run("SELECT pg_backend_pid()")[0][0]
    failure: dict[str, Any] = {}

    def run() -> None:
        try:
            action(waiter)
        except DatabaseError as error:
            failure.update(error.args[0])

    thread = threading.Thread(target=run)
    thread.start()
    _wait_until_blocked(db, waiter_pid)
    holder.run("COMMIT")
    thread.join(timeout=60)
    return failure or None
