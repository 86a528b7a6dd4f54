"""GET /api/health: liveness plus database reachability."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from ticketing.config import get_settings


def test_health_is_ok_when_the_database_answers(api: Any, db: Any) -> None:
    response = api.get("/api/health")

    assert response.status == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def _drop_function_connections(db: Any) -> int:
    """Ends every connection the functions hold, as a database failover or restart would."""
    return int(
        db.value(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE application_name = 'ticketing' AND pid <> pg_backend_pid()"
        )
    )


def test_a_dropped_connection_is_replaced_without_an_error(api: Any, db: Any) -> None:
    assert api.get("/api/health").status == 200
    assert _drop_function_connections(db) >= 1

    response = api.get("/api/health")

    assert response.status == 200


@pytest.fixture
def unreachable_database(db: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> Iterator[None]:
    _drop_function_connections(db)
    monkeypatch.setenv("DATABASE_URL", f"postgresql://postgres@/nowhere?host={tmp_path}")
    get_settings.cache_clear()
    yield
    monkeypatch.undo()
    get_settings.cache_clear()


def test_health_is_503_when_the_database_is_down(in_process_api: Any, unreachable_database: None) -> None:
    response = in_process_api.get("/api/health")

    assert response.status == 503
    assert response.json() == {"status": "degraded", "database": "unavailable"}


def test_other_endpoints_answer_503_not_500_when_the_database_is_down(
    in_process_api: Any, unreachable_database: None
) -> None:
    response = in_process_api.post("/api/auth/login", json={"email": "someone@example.com", "password": "whatever-123"})

    assert response.status == 503
    assert response.error_code == "SERVICE_UNAVAILABLE"
