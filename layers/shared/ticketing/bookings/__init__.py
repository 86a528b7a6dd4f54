"""Seat holds, bookings, payments and their expiry: selling every seat exactly once (see docs/booking-lifecycle.md).

Where things happen: a hold is placed, released and extended in `holds`; bookings are created, confirmed,
cancelled and read in `service`; the charge and refund go through `payments`; all SQL is in `repository`.
"""
