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


@pytest.fixture
def unreachable_database(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> Iterator[None]:
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
