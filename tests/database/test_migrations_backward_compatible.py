"""Every new migration is additive, or is the second step of a documented two-step change.

During a gradual deployment the previous release runs on the migrated schema until the shift ends (or rolls
back onto it), so a migration must not take away what that release reads or writes (docs/operations.md,
"Migrations during a deploy"; the checker is devtools/devtools/migration_compat.py).
"""

from __future__ import annotations

import pytest

from devtools.migration_compat import contract_changes, stated_reason
from ticketing.db.migrate import migration_files

# Written before the rule (2026-12-04), each reviewed when it shipped; the rule applies to every later one.
GRANDFATHERED = frozenset(
    {
        "0001_schema",
        "0002_outbox",
        "0003_catalog",
        "0004_tickets",
        "0005_refund_queue",
        "0006_status_copies_per_statement",
        "0007_seat_status",
        "0008_seat_order_index",
        "0009_event_seat_writes",
        "0010_event_cancellation_outbox",
        "0011_notification_writes",
        "0012_refund_and_void_writes",
        "0013_notification_owners_per_statement",
        "0014_booking_updates_in_place",
        "0015_status_copy_checked_once",
        "0016_payment_intents",
        "0020_waiting_room",
    }
)
LAST_GRANDFATHERED = "0020_waiting_room"


def test_the_grandfathered_list_names_only_migrations_that_predate_the_rule() -> None:
    versions = {version for version, _ in migration_files()}
    assert versions >= GRANDFATHERED
    assert max(GRANDFATHERED) == LAST_GRANDFATHERED


def test_every_new_migration_is_additive_or_says_why_not_in_its_header() -> None:
    # Given the migrations written since the rule (none yet on 2026-12-04; each new one is checked here)
    new = [(version, sql) for version, sql in migration_files() if version not in GRANDFATHERED]

    # When each is read for what the previous release could trip over
    unexplained = {
        version: changes for version, sql in new if (changes := contract_changes(sql)) and not stated_reason(sql)
    }

    # Then none takes anything away without its reason in the header, and none sorts before the rule
    assert unexplained == {}, (
        f"{unexplained}: make these additive; or, once no release uses what they remove, start the file with "
        "'-- two-step contract: <the release that removed the last reader>'; or, when the previous release is "
        "unaffected, '-- compatible: <why>' (docs/operations.md)"
    )
    assert all(version > LAST_GRANDFATHERED for version, _ in new)


@pytest.mark.parametrize(
    ("sql", "why"),
    [
        ("DROP TABLE coupons;", "drops a table"),
        ("drop view event_totals", "drops a view"),
        ("DROP TYPE booking_status;", "drops a type"),
        ("ALTER TABLE bookings DROP COLUMN coupon_code;", "drops a column"),
        ("ALTER TABLE bookings DROP IF EXISTS coupon_code;", "drops a column"),
        ("ALTER TABLE bookings ADD COLUMN note text, DROP COLUMN coupon_code;", "drops a column"),
        ("ALTER TABLE bookings RENAME COLUMN total TO amount;", "renames the table or a column"),
        ("ALTER TABLE bookings RENAME TO orders;", "renames the table or a column"),
        ("ALTER TABLE bookings ALTER COLUMN total TYPE numeric;", "changes a column's type"),
        ("ALTER TABLE bookings ALTER total SET DATA TYPE numeric;", "changes a column's type"),
        ("ALTER TABLE bookings ALTER COLUMN coupon_code SET NOT NULL;", "makes a column NOT NULL"),
        ("ALTER TABLE bookings ALTER COLUMN version DROP DEFAULT;", "drops a column's default"),
        ("ALTER TABLE bookings ADD COLUMN channel text NOT NULL;", "adds a NOT NULL column without a default"),
        ("ALTER TABLE bookings ADD CONSTRAINT total_small CHECK (total < 100);", "adds a constraint"),
        ("ALTER TABLE users ADD UNIQUE (phone);", "adds a constraint"),
        ("TRUNCATE outbox;", "empties a table"),
        ("REVOKE UPDATE ON bookings FROM ticketing_app;", "revokes privileges"),
    ],
)
def test_the_checker_finds_what_the_previous_release_could_trip_over(sql: str, why: str) -> None:
    changes = contract_changes(sql)
    assert len(changes) == 1
    assert why in changes[0]


@pytest.mark.parametrize(
    "sql",
    [
        "CREATE TABLE loyalty (id uuid PRIMARY KEY, user_id uuid NOT NULL REFERENCES users (id));",
        "CREATE TABLE loyalty (id uuid PRIMARY KEY); ALTER TABLE loyalty ADD COLUMN points int NOT NULL;",
        "ALTER TABLE bookings ADD COLUMN channel text;",
        "ALTER TABLE bookings ADD COLUMN IF NOT EXISTS channel text NOT NULL DEFAULT 'web';",
        "ALTER TABLE bookings ALTER COLUMN coupon_code DROP NOT NULL;",
        "ALTER TABLE bookings DROP CONSTRAINT bookings_total_check;",
        "ALTER TABLE bookings ALTER COLUMN channel SET DEFAULT 'web';",
        "CREATE INDEX bookings_channel_idx ON bookings (channel);",
        "DROP INDEX IF EXISTS bookings_channel_idx;",
        "-- DROP TABLE bookings; in a comment\nSELECT 1;",
        "CREATE OR REPLACE FUNCTION f() RETURNS trigger AS $$ BEGIN EXECUTE 'DROP TABLE x'; END $$ LANGUAGE plpgsql;",
        "COMMENT ON COLUMN bookings.total IS 'do not DROP COLUMN this';",
    ],
)
def test_additive_changes_pass_the_checker(sql: str) -> None:
    assert contract_changes(sql) == []


def test_a_second_step_names_the_release_that_removed_the_last_reader_in_its_header() -> None:
    sql = (
        "-- Bookings lose their legacy code.\n"
        "-- two-step contract: release 2027-01-15 (commit 1a2b3c4) stopped reading bookings.legacy_code\n"
        "ALTER TABLE bookings DROP COLUMN legacy_code;\n"
    )
    assert contract_changes(sql) != []
    assert stated_reason(sql) == (
        "two-step contract: release 2027-01-15 (commit 1a2b3c4) stopped reading bookings.legacy_code"
    )


def test_a_widened_check_says_why_the_previous_release_is_unaffected() -> None:
    sql = (
        "-- compatible: adds PARTIALLY_REFUNDED; every status the previous release writes is still allowed\n"
        "ALTER TABLE payments DROP CONSTRAINT payments_status_check,\n"
        "    ADD CONSTRAINT payments_status_check CHECK (status IN ('SUCCEEDED', 'PARTIALLY_REFUNDED'));\n"
    )
    assert contract_changes(sql) != []
    assert stated_reason(sql) is not None
    assert stated_reason(sql).startswith("compatible: adds PARTIALLY_REFUNDED")


@pytest.mark.parametrize(
    "sql",
    [
        "ALTER TABLE bookings DROP COLUMN legacy_code;\n-- two-step contract: too late, not in the header\n",
        "-- two-step contract:\nALTER TABLE bookings DROP COLUMN legacy_code;\n",
    ],
)
def test_a_marker_outside_the_header_or_without_a_reason_does_not_count(sql: str) -> None:
    assert stated_reason(sql) is None
