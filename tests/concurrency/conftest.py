"""Concurrent clients for the race tests: one forked process each, released together by a barrier."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from typing import Any

import pytest

_fork = multiprocessing.get_context("fork")


def run_in_processes(target: Callable[..., Any], args_list: list[tuple[Any, ...]], timeout: float = 60) -> list[Any]:
    """Runs target(*args) in one forked process each, all released at once; answers their results in order."""
    from ticketing.db.connection import close_connection

    # A child must never use the parent's socket: drop it before forking (it reopens lazily).
    close_connection()
    results = _fork.Queue()
    start = _fork.Barrier(len(args_list))

    def child(index: int, args: tuple[Any, ...]) -> None:
        try:
            start.wait(timeout)
            results.put((index, "ok", target(*args)))
        except BaseException as error:  # reported to the parent, which fails the test
            results.put((index, "error", repr(error)))

    processes = [_fork.Process(target=child, args=(i, args)) for i, args in enumerate(args_list)]
    for process in processes:
        process.start()
    collected = dict[int, Any]()
    for _ in processes:
        index, outcome, value = results.get(timeout=timeout)
        assert outcome == "ok", value
        collected[index] = value
    for process in processes:
        process.join(timeout)
    return [collected[i] for i in range(len(args_list))]


@pytest.fixture
def in_processes() -> Callable[..., list[Any]]:
    return run_in_processes
