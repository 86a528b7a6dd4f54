"""The embedded database's restart hook (`python -m bench chaos`'s PostgreSQL restart): the server stops as in a
crash, comes back on the same URL, and a connection cached from before serves the next transaction."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from devtools.embedded_db import embedded_server, start_server_again, stop_server_abruptly
from ticketing.errors import ServiceUnavailable


@pytest.fixture
def own_server(tmp_path: Path, fresh_settings: pytest.MonkeyPatch) -> Iterator[Path]:
    """A server of this test's own (the session's must not restart), which DATABASE_URL names."""
    data_dir = tmp_path / "pgdata"
    with embedded_server(data_dir, keep_data=False) as url:
        fresh_settings.setenv("DATABASE_URL", url)
        yield data_dir


def in_own_thread(work: Callable[[], Any]) -> Any:
    """Runs `work` in one thread for the whole test: ticketing.db caches one connection per thread."""
    result: dict[str, Any] = {}

    def run() -> None:
        try:
            result["value"] = work()
        except Exception as error:
            result["error"] = error

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    return result


def test_a_cached_connection_serves_again_once_the_server_is_back(own_server: Path) -> None:
    from ticketing.db import transaction
    from ticketing.db.connection import close_connection

    def before_down_and_after() -> tuple[int, str, int]:
        with transaction() as tx:
            first = tx.value("SELECT pg_backend_pid()")
        socket_dir = stop_server_abruptly(own_server)
        try:
            with transaction() as tx:
                tx.value("SELECT 1")
            down = "answered"
        except ServiceUnavailable:
            down = "503"
        start_server_again(own_server, socket_dir)
        with transaction() as tx:
            after = tx.value("SELECT pg_backend_pid()")
        close_connection()
        return first, down, after

    result = in_own_thread(before_down_and_after)

    assert "error" not in result, result
    first, down, after = result["value"]
    assert down == "503"
    assert after != first
