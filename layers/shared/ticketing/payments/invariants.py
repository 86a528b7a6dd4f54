"""The payments' invariants against the provider's own books (docs/operations.md, "Invariant check"): what
we recorded as charged and refunded is what the provider charged and refunded, each at most once.

The test-mode provider keeps its books in this database (`test_provider_intents`, `test_provider_refunds`),
so the checker reads them directly; payments of another provider are left to its own reconciliation.
Payments still open (REQUIRES_*, PROCESSING) and refunds still queued are in flight, not violations: the
reconciliation and the refund worker settle them.
"""

from __future__ import annotations

from ticketing.db.invariants import Invariant

_CHARGED = "('SUCCEEDED', 'REFUND_PENDING', 'REFUNDED', 'REFUND_FAILED')"
_OPEN = "('REQUIRES_PAYMENT_METHOD', 'REQUIRES_ACTION', 'PROCESSING')"

PROVIDER_CHARGE_RECORDED = Invariant(
    "payments.provider_charge_recorded",
    "every charge the provider made is a payment we recorded as charged (or one still being settled)",
    "SELECT i.id AS intent_id, i.metadata->>'payment_id' AS payment_id, p.status AS payment_status"
    " FROM test_provider_intents i LEFT JOIN payments p ON CAST(p.id AS text) = i.metadata->>'payment_id'"
    f" WHERE i.status = 'succeeded' AND (p.id IS NULL OR p.status NOT IN {_CHARGED} AND p.status NOT IN {_OPEN})",
)

RECORDED_CHARGE_AT_PROVIDER = Invariant(
    "payments.recorded_charge_at_provider",
    "every payment we recorded as charged by the test provider is a succeeded charge in its books",
    "SELECT p.id AS payment_id, p.reference, i.status AS provider_status FROM payments p"
    " LEFT JOIN test_provider_intents i ON i.id = p.reference"
    f" WHERE p.provider = 'test' AND p.status IN {_CHARGED} AND i.status IS DISTINCT FROM 'succeeded'",
)

REFUNDED_AT_MOST_ONCE = Invariant(
    "payments.refunded_at_most_once",
    "the provider refunded each charge at most once, and never more than was charged",
    "SELECT r.charge_reference, count(*) AS refunds, sum(r.amount) AS refunded, max(i.amount) AS charged"
    " FROM test_provider_refunds r LEFT JOIN test_provider_intents i ON i.id = r.charge_reference"
    " WHERE r.reference IS NOT NULL GROUP BY r.charge_reference"
    " HAVING count(*) > 1 OR sum(r.amount) > COALESCE(max(i.amount), 0)",
)

REFUNDS_MATCH_PROVIDER_BOOKS = Invariant(
    "payments.refunds_match_provider_books",
    "a payment is REFUNDED exactly when the provider made its refund (a refund made for a payment still"
    " queued is being settled)",
    "SELECT p.id AS payment_id, p.status, r.reference AS provider_refund FROM payments p"
    " LEFT JOIN test_provider_refunds r ON r.idempotency_key = CAST(p.id AS text) AND r.reference IS NOT NULL"
    " WHERE p.provider = 'test' AND ((p.status = 'REFUNDED') <> (r.reference IS NOT NULL))"
    " AND p.status <> 'REFUND_PENDING'",
)

INVARIANTS = (
    PROVIDER_CHARGE_RECORDED,
    RECORDED_CHARGE_AT_PROVIDER,
    REFUNDED_AT_MOST_ONCE,
    REFUNDS_MATCH_PROVIDER_BOOKS,
)
