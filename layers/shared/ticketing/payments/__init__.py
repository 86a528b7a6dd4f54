"""Payments: the provider interface and its providers, the payments table, and the reconciliation of payments
whose outcome is unknown (docs/payments.md).

Bookings and refunds use this package; it uses neither. Whatever must happen to a booking when a payment
settles is the caller's: the reconciliation hands each provider answer to a settle function it is given.
"""
