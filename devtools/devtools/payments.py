"""The customer's side of a test-mode payment, for a local run: `python -m devtools.payments authenticate ID`.

A `tok_threeDSecure` confirm answers 402 PAYMENT_REQUIRES_ACTION with the payment's id; this completes the
customer's 3-D Secure step at the test provider (`--fail` fails it instead), as a bank's page would. Then
confirm the booking with `{"paymentId": ID, "version": ...}` (docs/payments.md).
"""

from __future__ import annotations

import argparse
import os
import sys
from uuid import UUID

from devtools.local_stack import DATA_DIR, local_database
from ticketing.db import transaction
from ticketing.payments.test_provider import TestPaymentProvider


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("command", choices=["authenticate"])
    parser.add_argument("payment_id", type=UUID)
    parser.add_argument("--fail", action="store_true", help="the customer fails the authentication")
    args = parser.parse_args()
    with local_database(DATA_DIR) as database_url:
        os.environ["DATABASE_URL"] = database_url
        with transaction() as tx:
            reference = tx.value("SELECT reference FROM payments WHERE id = :id", id=args.payment_id)
        if reference is None:
            sys.exit(f"no payment {args.payment_id} with a test-provider intent")
        intent = TestPaymentProvider().authenticate(str(reference), success=not args.fail)
    print(f"payment {args.payment_id}: the provider's intent is now {intent.status}")


if __name__ == "__main__":
    main()
