"""The invariant check (docs/operations.md, "Invariant check"): every aggregate's invariants, read in one
consistent snapshot, reported with the rows involved. `make check-invariants` and the InvariantCheckFunction
run this; it writes nothing. Payments at a provider keeping its own books (Stripe) are then compared with
those books, after the snapshot's transaction has ended (no provider call inside a transaction).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ticketing.bookings import invariants as bookings
from ticketing.catalog.events import invariants as events
from ticketing.coupons import invariants as coupons
from ticketing.db import transaction
from ticketing.db.connection import Session
from ticketing.db.invariants import Invariant, Rule, Violation, find_violations
from ticketing.domain_events import invariants as domain_events
from ticketing.payments import invariants as payments
from ticketing.payments import provider_books
from ticketing.tickets import invariants as tickets

ALL_INVARIANTS: tuple[Invariant, ...] = (
    *bookings.INVARIANTS,
    *events.INVARIANTS,
    *tickets.INVARIANTS,
    *coupons.INVARIANTS,
    *payments.INVARIANTS,
    *domain_events.INVARIANTS,
)
# What `check()` checks: the invariants in our database, then the payments against external providers' books.
ALL_RULES: tuple[Rule, ...] = (*ALL_INVARIANTS, *provider_books.RULES)
# Rows listed per violated invariant; the count says how many there were in all.
ROWS_SHOWN = 50


@dataclass(frozen=True)
class Report:
    checked: tuple[Rule, ...]
    violations: list[Violation]

    @property
    def holds(self) -> bool:
        return not self.violations

    @property
    def exit_code(self) -> int:
        return 0 if self.holds else 1

    def as_dict(self) -> dict[str, Any]:
        return {
            "holds": self.holds,
            "checked": len(self.checked),
            "violations": [
                {
                    "invariant": violation.invariant.name,
                    "rule": violation.invariant.rule,
                    "count": len(violation.rows),
                    "rows": json.loads(json.dumps(violation.rows[:ROWS_SHOWN], default=str)),
                }
                for violation in self.violations
            ],
        }

    def lines(self) -> list[str]:
        """The report as an operator reads it: one line per violated invariant, then its rows."""
        if self.holds:
            return [f"OK: all {len(self.checked)} invariants hold"]
        lines = [f"VIOLATED: {len(self.violations)} of {len(self.checked)} invariants"]
        for entry in self.as_dict()["violations"]:
            lines.append(f"- {entry['invariant']} ({entry['count']} rows): {entry['rule']}")
            lines.extend(f"    {json.dumps(row, sort_keys=True)}" for row in entry["rows"])
        return lines


def check_in(tx: Session) -> Report:
    """The check inside the caller's transaction (tests read what they just wrote)."""
    return Report(ALL_INVARIANTS, find_violations(tx, ALL_INVARIANTS))


def check() -> Report:
    """The check in its own read-only transaction, one snapshot for every query; then, with the transaction
    over, the snapshot's payments at external providers against the providers' books."""
    with transaction() as tx:
        tx.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        in_database = check_in(tx)
        at_providers = provider_books.snapshot(tx)
    return Report(
        ALL_RULES,
        in_database.violations + provider_books.find_violations(at_providers),
    )
