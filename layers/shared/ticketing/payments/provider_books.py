"""The payments' invariants against a provider that keeps its books outside this database (Stripe; localstripe
locally): docs/operations.md, "Invariant check".

The check reads our payments in its snapshot (`snapshot`), the caller commits, and only then is the provider
asked (`find_violations`), one read-only `charge_books` call per payment, each bounded by the provider's own
timeout. Once the provider fails to answer, the remaining payments are reported unchecked rather than each
waiting out the timeout again. The test provider keeps its books in our database, so its payments are checked
by SQL (`payments/invariants.py`) and are not read here.
"""

from __future__ import annotations

from typing import Any

from ticketing.db.connection import Row, Session
from ticketing.db.invariants import Rule, Violation
from ticketing.payments.provider import ChargeBooks, ProviderUnavailable, provider_named

# Providers whose books are outside our database.
EXTERNAL_PROVIDERS = ("stripe",)
_CHARGED = frozenset({"SUCCEEDED", "REFUND_PENDING", "REFUNDED", "REFUND_FAILED"})
_OPEN = frozenset({"REQUIRES_PAYMENT_METHOD", "REQUIRES_ACTION", "PROCESSING"})

BOOKS_READABLE = Rule(
    "payments.stripe_books_readable",
    "the provider answered for every payment it holds (otherwise the checks below could not be made for it)",
)
REFUNDED_AT_MOST_ONCE = Rule(
    "payments.stripe_refunded_at_most_once",
    "the provider refunded each of our payments at most once, and never more than it charged",
)
CHARGE_RECORDED = Rule(
    "payments.stripe_charge_recorded",
    "a charge succeeded at the provider exactly when we recorded the payment as charged (open payments are"
    " being settled)",
)
REFUND_AT_PROVIDER = Rule(
    "payments.stripe_refund_made",
    "every payment we recorded as REFUNDED has a refund in the provider's books",
)
RULES = (BOOKS_READABLE, REFUNDED_AT_MOST_ONCE, CHARGE_RECORDED, REFUND_AT_PROVIDER)


def snapshot(tx: Session) -> list[Row]:
    """Our payments at external providers, as the check's snapshot sees them."""
    return tx.rows(
        "SELECT id AS payment_id, booking_id, provider, reference, status, amount FROM payments"
        " WHERE provider = ANY(CAST(:providers AS text[])) AND reference IS NOT NULL ORDER BY created_at, id",
        providers=list(EXTERNAL_PROVIDERS),
    )


def find_violations(payments: list[Row]) -> list[Violation]:
    """Each payment of the snapshot against the provider's books; call it outside any transaction."""
    found: dict[Rule, list[Row]] = {rule: [] for rule in RULES}
    unavailable: str | None = None
    for payment in payments:
        if unavailable is not None:
            found[BOOKS_READABLE].append(_row(payment, error=f"not asked: {unavailable}"))
            continue
        try:
            books = provider_named(payment["provider"]).charge_books(payment["reference"])
        except ProviderUnavailable as error:
            unavailable = str(error)
            found[BOOKS_READABLE].append(_row(payment, error=unavailable))
            continue
        except (LookupError, RuntimeError) as error:
            found[BOOKS_READABLE].append(_row(payment, error=str(error)))
            continue
        for rule in _broken(payment, books):
            found[rule].append(_row(payment, books=books))
    return [Violation(rule, rows) for rule, rows in found.items() if rows]


def _broken(payment: Row, books: ChargeBooks) -> list[Rule]:
    broken = []
    if len(books.refunds) > 1 or books.refunded > books.amount:
        broken.append(REFUNDED_AT_MOST_ONCE)
    status = payment["status"]
    if status not in _OPEN and books.charged != (status in _CHARGED):
        broken.append(CHARGE_RECORDED)
    if status == "REFUNDED" and not books.refunds:
        broken.append(REFUND_AT_PROVIDER)
    return broken


def _row(payment: Row, *, books: ChargeBooks | None = None, error: str | None = None) -> Row:
    row: dict[str, Any] = {
        "payment_id": payment["payment_id"],
        "booking_id": payment["booking_id"],
        "reference": payment["reference"],
        "payment_status": payment["status"],
    }
    if books is not None:
        row |= {
            "provider_charged": books.charged,
            "charged": books.amount,
            "refunded": books.refunded,
            "refunds": [reference for reference, _ in books.refunds],
        }
    if error is not None:
        row["error"] = error
    return row
