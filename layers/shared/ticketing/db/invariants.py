"""What an invariant is to the checker (docs/operations.md, "Invariant check"): a name, the rule in words, and
one read-only query that answers the rows breaking it (no rows: it holds).

Each aggregate states its own invariants over its own tables, next to its SQL (`<package>/invariants.py`);
`ticketing.ops.invariants` runs them all in one snapshot.
"""

from __future__ import annotations

from dataclasses import dataclass

from ticketing.db.connection import Row, Session


@dataclass(frozen=True)
class Rule:
    """An invariant by name and rule in words; one checked against someone else's books (a payment provider's)
    is a plain `Rule`, as no query of ours can answer it."""

    name: str
    rule: str


@dataclass(frozen=True)
class Invariant(Rule):
    # SELECT ... answering one row per violation, with the ids an operator needs to find the rows involved.
    violations_sql: str


@dataclass(frozen=True)
class Violation:
    invariant: Rule
    rows: list[Row]


def find_violations(tx: Session, invariants: tuple[Invariant, ...]) -> list[Violation]:
    """Every invariant broken in the snapshot `tx` reads, each with its offending rows."""
    found = []
    for invariant in invariants:
        rows = tx.rows(invariant.violations_sql)
        if rows:
            found.append(Violation(invariant, rows))
    return found
