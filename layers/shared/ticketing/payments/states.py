"""A payment's states, as the API shows them (docs/payments.md has the diagram)."""

from __future__ import annotations

from enum import StrEnum


class PaymentStatus(StrEnum):
    """An attempt is open while the provider may still take the money (REQUIRES_PAYMENT_METHOD, REQUIRES_ACTION,
    PROCESSING); it ends SUCCEEDED (with the booking confirmed) or FAILED. A succeeded charge is refunded through
    the queue: REFUND_PENDING, then REFUNDED, or REFUND_FAILED after the last attempt (docs/refunds.md)."""

    REQUIRES_PAYMENT_METHOD = "REQUIRES_PAYMENT_METHOD"
    REQUIRES_ACTION = "REQUIRES_ACTION"
    PROCESSING = "PROCESSING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    REFUND_PENDING = "REFUND_PENDING"
    REFUNDED = "REFUNDED"
    REFUND_FAILED = "REFUND_FAILED"


# The provider may still take the money: the reconciliation watches these.
OPEN = frozenset({PaymentStatus.REQUIRES_PAYMENT_METHOD, PaymentStatus.REQUIRES_ACTION, PaymentStatus.PROCESSING})
# A payment is in flight: the customer or the provider is working on it, so its booking is not expired under it.
IN_FLIGHT = frozenset({PaymentStatus.REQUIRES_ACTION, PaymentStatus.PROCESSING})
# The money was taken (whatever became of its refund since).
CHARGED = frozenset(
    {PaymentStatus.SUCCEEDED, PaymentStatus.REFUND_PENDING, PaymentStatus.REFUNDED, PaymentStatus.REFUND_FAILED}
)


def sql_list(states: frozenset[PaymentStatus]) -> str:
    """The states as an SQL list of constants (`'A', 'B'`), in a fixed order, for the statements' predicates."""
    return ", ".join(f"'{state}'" for state in sorted(states))
