"""Migrations: applied in order, each recorded, a second run changes nothing, concurrent runs are safe."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

import pg8000.native

from devtools.embedded_db import scratch_database
from ticketing.db.dsn import parse_database_url
from ticketing.db.migrate import apply_migrations, migration_files


def _recorded_versions(url: str) -> list[str]:
    connection = pg8000.native.Connection(**parse_database_url(url).as_pg8000_kwargs())
    try:
        return [row[0] for row in connection.run("SELECT version FROM schema_migrations ORDER BY version")]
    finally:
        connection.close()


def test_migration_files_are_numbered_uniquely_in_order() -> None:
    versions = [version for version, _ in migration_files()]

    numbers = [int(re.match(r"(\d{4})_", version).group(1)) for version in versions]  # type: ignore[union-attr]
    assert numbers == sorted(set(numbers))
    assert versions[0] == "0001_schema"


def test_a_fresh_database_gets_every_migration_once(database_url: str) -> None:
    with scratch_database(database_url, "migrate_fresh") as url:
        applied = apply_migrations(parse_database_url(url))

        assert applied == [version for version, _ in migration_files()]
        assert _recorded_versions(url) == applied


def test_a_second_run_applies_nothing(database_url: str) -> None:
    with scratch_database(database_url, "migrate_twice") as url:
        apply_migrations(parse_database_url(url))

        assert apply_migrations(parse_database_url(url)) == []


def test_concurrent_runs_apply_each_migration_exactly_once(database_url: str) -> None:
    with scratch_database(database_url, "migrate_race") as url:
        with ThreadPoolExecutor(max_workers=3) as pool:
            results = list(pool.map(lambda _: apply_migrations(parse_database_url(url)), range(3)))

        assert sorted(len(result) for result in results) == [0, 0, len(migration_files())]
        assert len(_recorded_versions(url)) == len(migration_files())
