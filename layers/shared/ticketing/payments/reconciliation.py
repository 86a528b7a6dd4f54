"""The reconciliation: every open payment left unsettled is asked about at its provider (docs/payments.md).

One round claims a batch of payments whose check is due (a short transaction, `FOR UPDATE SKIP LOCKED` and a
lease, so two runs at once split the work and never wait for each other), asks the provider for each intent
outside any transaction, and hands each answer to the `settle` function it was given: what a settled payment
means for its booking is the bookings' business, not this package's. A payment whose provider did not answer
stays claimed until its lease runs out, then falls due again.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from uuid import UUID

from ticketing.db import transaction
from ticketing.db.connection import Row
from ticketing.observability import count, logger
from ticketing.payments import repository as repo
from ticketing.payments.provider import Intent, PaymentProvider, ProviderUnavailable, payment_provider

BATCH_SIZE = 25
# A claim keeps other runs away while a batch of provider calls (each bounded by its timeout) is made.
LEASE_SECONDS = 300.0
# An open payment overdue by this much is a backlog: the reconciliation is failing or falling behind (alarmed).
BACKLOG_AFTER_SECONDS = 600

# What the reconciliation hands over: the payment row as claimed and the provider's intent (None when the
# attempt never reached the provider, so there is no intent to ask about). Answers what became of it.
Settle = Callable[[Row, Intent | None], str]


@dataclass
class ReconcileReport:
    claimed: int = 0
    unanswered: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    backlog: int = 0

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def run_round(
    settle: Settle, *, provider: PaymentProvider | None = None, booking_id: UUID | None = None, limit: int = BATCH_SIZE
) -> ReconcileReport:
    """Claims, asks and settles one batch (every open payment of `booking_id`, due or not, when given)."""
    provider = provider or payment_provider()
    with transaction() as tx:
        claimed = repo.claim_for_reconciliation(
            tx, provider=provider.name, limit=limit, lease_seconds=LEASE_SECONDS, booking_id=booking_id
        )
    report = ReconcileReport(claimed=len(claimed))
    for payment in claimed:
        try:
            intent = provider.retrieve_intent(payment["reference"]) if payment["reference"] else None
            outcome = settle(payment, intent)
        except ProviderUnavailable as error:
            report.unanswered += 1
            logger.warning(
                "provider did not answer; retried after the lease",
                extra={"paymentId": str(payment["id"]), "error": str(error)},
            )
            continue
        except Exception:  # one payment's surprise must not stop the others: logged, counted, retried
            report.unanswered += 1
            count("PaymentReconcileErrors")
            logger.exception("payment not reconciled; retried after the lease", extra={"paymentId": str(payment["id"])})
            continue
        report.outcomes[outcome] = report.outcomes.get(outcome, 0) + 1
    return report


def reconcile(settle: Settle, *, deadline: float, booking_id: UUID | None = None) -> ReconcileReport:
    """Rounds until a round finds less than a full batch or `deadline` (time.monotonic()) has passed; then counts
    the backlog for the alarm."""
    total = ReconcileReport()
    while time.monotonic() < deadline:
        done = run_round(settle, booking_id=booking_id)
        total.claimed += done.claimed
        total.unanswered += done.unanswered
        for outcome, number in done.outcomes.items():
            total.outcomes[outcome] = total.outcomes.get(outcome, 0) + number
        if done.claimed < BATCH_SIZE or booking_id is not None:
            break
    with transaction() as tx:
        total.backlog = repo.reconciliation_backlog(tx, overdue_seconds=BACKLOG_AFTER_SECONDS)
    count("PaymentsReconciled", total.claimed - total.unanswered)
    count("PaymentReconciliationBacklog", total.backlog)
    return total
