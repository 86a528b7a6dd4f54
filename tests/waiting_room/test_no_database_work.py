"""Joining, polling and the admission check run no SQL beyond the cached room settings (docs/waiting-room.md).

The statements are counted where pg8000 runs them, so nothing reaches PostgreSQL unseen.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def counted_statements(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    import pg8000.native

    statements: list[str] = []
    run = pg8000.native.Connection.run

    def counted(self: Any, sql: str, **params: Any) -> Any:
        statements.append(sql)
        return run(self, sql, **params)

    with monkeypatch.context() as patch:
        patch.setattr(pg8000.native.Connection, "run", counted)
        yield statements


def test_join_poll_and_token_check_run_no_sql_once_the_settings_are_cached(
    rooms: Any, accounts: Any, api: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ticketing.auth.principal import Principal, Role
    from ticketing.waiting_room.admission import check_admission

    # Given a room whose settings this environment has read once
    event = rooms.event()
    first, second = accounts.create(), accounts.create()
    token = rooms.admitted_token(first, event.id)

    # When another buyer joins and polls, and an admission token is checked
    with counted_statements(monkeypatch) as statements:
        joined = api.post(f"/api/events/{event.id}/queue", token=second.token)
        polled = api.get(f"/api/events/{event.id}/queue/me", token=second.token)
        public = api.get(f"/api/events/{event.id}/queue")
        checked = check_admission(Principal(UUID(first.id), Role.USER), UUID(event.id), token)

    # Then none of it ran a statement
    assert (joined.status, polled.status, public.status, checked) == (201, 200, 200, True)
    assert statements == []


def test_an_expired_settings_cache_costs_one_primary_key_read(
    rooms: Any, accounts: Any, api: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ticketing.waiting_room import room_cache

    event = rooms.event()
    room_cache.forget()

    with counted_statements(monkeypatch) as statements:
        joined = api.post(f"/api/events/{event.id}/queue", token=accounts.create().token)

    assert joined.status == 201
    reads = [sql for sql in statements if "FROM events" in sql]
    assert len(reads) == 1
    assert "WHERE id = :id" in reads[0]


class _IgnoreIntrinsics(yaml.SafeLoader):
    """Reads CloudFormation's short-form tags as plain values."""


_IgnoreIntrinsics.add_multi_constructor("!", lambda loader, suffix, node: None)


def test_the_table_the_tests_create_is_the_table_the_template_declares() -> None:
    from ticketing.waiting_room.store import TABLE_DEFINITION

    template = yaml.load((REPO_ROOT / "template.yaml").read_text(), Loader=_IgnoreIntrinsics)
    declared = template["Resources"]["WaitingRoomTable"]["Properties"]

    for key in ("AttributeDefinitions", "KeySchema", "BillingMode"):
        assert declared[key] == TABLE_DEFINITION[key], key
    assert "GlobalSecondaryIndexes" not in declared
