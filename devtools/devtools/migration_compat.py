"""Is a migration safe while the previous release still runs? (docs/operations.md, "Migrations during a deploy")

During a gradual deployment the old and the new version of every function run side by side on one schema, and
the schema is migrated before the shift starts. So a migration must only add: new tables, new nullable columns
or columns with a default, new indexes, new functions and triggers, looser constraints. Anything the previous
release may still read or write (a column, a table, a type, a default, a NOT NULL it does not fill in) stays
until a later release that no longer uses it, and goes in a migration that says so in its header:

    -- two-step contract: <which release (or commit) removed the last reader/writer, and of what>

A change the checker cannot tell from a contraction (a CHECK replaced by a wider one, a constraint every row
the previous release writes already meets) says why it is safe instead:

    -- compatible: <why every read and write of the previous release still works>

`contract_changes` finds what the previous release could trip over; `stated_reason` reads either header.
"""

from __future__ import annotations

import re

REASON_HEADER = re.compile(r"^--\s*(?P<kind>two-step contract|compatible):\s*(?P<reason>\S.*)$", re.IGNORECASE)

_COMMENT_LINE = re.compile(r"--[^\n]*")
_COMMENT_BLOCK = re.compile(r"/\*.*?\*/", re.DOTALL)
_DOLLAR_QUOTED = re.compile(r"\$(?P<tag>[A-Za-z_]*)\$.*?\$(?P=tag)\$", re.DOTALL)
_STRING = re.compile(r"'(?:[^']|'')*'")

_NAME = r'(?:"[^"]+"|[\w.]+)'
_ALTER_TABLE = re.compile(rf"^ALTER TABLE (?:ONLY )?(?:IF EXISTS )?(?P<table>{_NAME}) (?P<actions>.*)$")
_CREATE_TABLE = re.compile(rf"^CREATE (?:UNLOGGED )?TABLE (?:IF NOT EXISTS )?(?P<table>{_NAME})")
_DROPPED_OBJECT = re.compile(r"^DROP (?P<kind>TABLE|VIEW|MATERIALIZED VIEW|TYPE|DOMAIN|SCHEMA|SEQUENCE)\b")
_RENAMED_OBJECT = re.compile(r"^ALTER (?P<kind>VIEW|MATERIALIZED VIEW|TYPE|DOMAIN|SCHEMA|SEQUENCE) .* RENAME\b")

# Per ALTER TABLE action: what the previous release could trip over.
_ACTION_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^DROP (?!CONSTRAINT\b)"), "drops a column"),
    (re.compile(r"^RENAME (?!CONSTRAINT\b)"), "renames the table or a column"),
    (re.compile(rf"^ALTER (?:COLUMN )?{_NAME} (?:SET DATA )?TYPE\b"), "changes a column's type"),
    (re.compile(rf"^ALTER (?:COLUMN )?{_NAME} SET NOT NULL\b"), "makes a column NOT NULL"),
    (re.compile(rf"^ALTER (?:COLUMN )?{_NAME} DROP DEFAULT\b"), "drops a column's default"),
    (
        re.compile(r"^ADD (?:CONSTRAINT \S+ )?(?:CHECK|UNIQUE|PRIMARY KEY|FOREIGN KEY|EXCLUDE)\b"),
        "adds a constraint the previous release's writes may break",
    ),
    (re.compile(r"^SET SCHEMA\b"), "moves the table to another schema"),
)


def _code_only(sql: str) -> str:
    """The SQL without comments, function bodies and string literals, upper-cased, whitespace collapsed."""
    for pattern, replacement in (
        (_COMMENT_BLOCK, " "),
        (_COMMENT_LINE, " "),
        (_DOLLAR_QUOTED, "$BODY$"),
        (_STRING, "''"),
    ):
        sql = pattern.sub(replacement, sql)
    return re.sub(r"\s+", " ", sql).upper()


def _statements(sql: str) -> list[str]:
    return [statement.strip() for statement in _code_only(sql).split(";") if statement.strip()]


def _top_level_parts(actions: str) -> list[str]:
    """ALTER TABLE's actions, split on the commas that are not inside parentheses."""
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for character in actions:
        depth += {"(": 1, ")": -1}.get(character, 0)
        if character == "," and depth == 0:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(character)
    parts.append("".join(current).strip())
    return [part for part in parts if part]


def _action_changes(action: str) -> list[str]:
    found = [reason for pattern, reason in _ACTION_RULES if pattern.search(action)]
    added_column = re.match(
        r"^ADD (?:COLUMN )?(?:IF NOT EXISTS )?(?!CONSTRAINT\b|CHECK\b|UNIQUE\b|PRIMARY\b|FOREIGN\b)", action
    )
    if added_column and "NOT NULL" in action and "DEFAULT" not in action and "GENERATED" not in action:
        found.append("adds a NOT NULL column without a default (the previous release's inserts fail)")
    return found


def contract_changes(sql: str) -> list[str]:
    """Each statement of `sql` the previous release could trip over, with why; [] for an additive migration.

    Tables the migration creates itself are exempt: no previous release knows them.
    """
    statements = _statements(sql)
    created = {match["table"] for statement in statements if (match := _CREATE_TABLE.match(statement))}
    changes: list[str] = []
    for statement in statements:
        if statement.startswith("TRUNCATE "):
            changes.append(f"{statement[:80]}: empties a table")
        if statement.startswith("REVOKE "):
            changes.append(f"{statement[:80]}: revokes privileges the previous release may use")
        if dropped := _DROPPED_OBJECT.match(statement):
            changes.append(f"{statement[:80]}: drops a {dropped['kind'].lower()}")
        if renamed := _RENAMED_OBJECT.match(statement):
            changes.append(f"{statement[:80]}: renames a {renamed['kind'].lower()}")
        altered = _ALTER_TABLE.match(statement)
        if altered and altered["table"] not in created:
            for action in _top_level_parts(altered["actions"]):
                changes += [
                    f"ALTER TABLE {altered['table']} {action[:60]}: {reason}" for reason in _action_changes(action)
                ]
    return changes


def stated_reason(sql: str) -> str | None:
    """The reason a `-- two-step contract: ...` or `-- compatible: ...` line of the leading comments gives."""
    for line in sql.splitlines():
        stripped = line.strip()
        if not stripped:
            continue
        if not stripped.startswith("--"):
            return None
        if header := REASON_HEADER.match(stripped):
            return f"{header['kind'].lower()}: {header['reason'].strip()}"
    return None
