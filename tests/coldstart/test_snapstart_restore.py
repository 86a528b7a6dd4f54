"""SnapStart's after-restore hook: a restored environment opens its own connection and draws its own numbers."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import snapshot_restore_py

from ticketing.db import transaction
from ticketing.snapstart import after_restore, register_restore_hook


def _run_after_restore_hooks() -> None:
    """What Lambda's runtime does when it resumes an environment from the snapshot."""
    hooks: list[tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]] = list(
        snapshot_restore_py.get_after_restore()  # type: ignore[arg-type]
    )
    for hook, args, kwargs in hooks:
        hook(*args, **kwargs)


def _backend_pid() -> int:
    with transaction() as tx:
        return int(tx.value("SELECT pg_backend_pid()"))


def test_the_hook_is_registered_with_the_runtime_once(database_url: str) -> None:
    # Given the hook registered (every function registers it when it builds its handler)
    register_restore_hook()
    register_restore_hook()

    # Then the runtime's registry holds it exactly once
    registered = [hook for hook, _, _ in snapshot_restore_py.get_after_restore()]  # type: ignore[misc]
    assert registered.count(after_restore) == 1


def test_after_restore_the_next_transaction_opens_a_new_connection(database_url: str) -> None:
    # Given an environment whose connection was opened before the snapshot
    register_restore_hook()
    before = _backend_pid()
    assert _backend_pid() == before  # the connection is reused while nothing is restored

    # When Lambda restores the environment and runs the registered hooks
    _run_after_restore_hooks()

    # Then the next transaction runs on a new server connection
    assert _backend_pid() != before


def test_after_restore_random_numbers_differ_from_the_snapshots(database_url: str) -> None:
    # Given the generator's state as the snapshot froze it
    register_restore_hook()
    frozen = random.getstate()
    random.setstate(frozen)
    from_snapshot = [random.random() for _ in range(4)]

    # When two environments are restored from that same state
    random.setstate(frozen)
    _run_after_restore_hooks()
    first = [random.random() for _ in range(4)]
    random.setstate(frozen)
    _run_after_restore_hooks()
    second = [random.random() for _ in range(4)]

    # Then neither replays the snapshot's numbers, and they differ from each other
    assert first != from_snapshot
    assert second != from_snapshot
    assert first != second
