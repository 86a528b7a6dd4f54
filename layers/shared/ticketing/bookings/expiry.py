"""The expiry sweep (docs/booking-lifecycle.md): frees expired holds, expires unpaid bookings, forgets old
idempotency keys.

Every batch is its own short transaction that takes rows with `FOR UPDATE SKIP LOCKED`, so the sweep never
waits for live traffic, live traffic never waits long for it, and two sweeps at once split the work instead
of doing it twice. A booking a confirm is working on is skipped; if the confirm loses its race (the booking
had expired) the next sweep expires it. Correctness never depends on the sweep: a hold past `held_until` is
already free to anyone, and confirm refuses a booking past `expires_at`.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

from ticketing import domain_events
from ticketing.bookings import holds_repository as holds_repo
from ticketing.bookings import repository as repo
from ticketing.bookings.closing import EXPIRED, EXPIRED_UNPAID, close_bookings
from ticketing.db import transaction
from ticketing.db.id_set import IdSet
from ticketing.http import idempotency_keys
from ticketing.observability import count

HOLDS_PER_BATCH = 1000
BOOKINGS_PER_BATCH = 100
KEYS_PER_BATCH = 1000


@dataclass
class SweepReport:
    released_holds: int = 0
    expired_bookings: int = 0
    deleted_idempotency_keys: int = 0
    batches: int = 0
    finished: bool = True

    def as_dict(self) -> dict[str, int | bool]:
        names = {
            "released_holds": "releasedHolds",
            "expired_bookings": "expiredBookings",
            "deleted_idempotency_keys": "deletedIdempotencyKeys",
        }
        return {names.get(name, name): value for name, value in asdict(self).items()}


def _release_hold_batch() -> int:
    with transaction() as tx:
        return holds_repo.release_expired_holds(tx, HOLDS_PER_BATCH)


def _expire_booking_batch() -> int:
    with transaction() as tx:
        bookings = repo.lock_expired_bookings(tx, BOOKINGS_PER_BATCH)
        ids = IdSet.of(booking["id"] for booking in bookings)
        return close_bookings(tx, ids, status=EXPIRED, reason=None, notice=EXPIRED_UNPAID).bookings


def _delete_key_batch() -> int:
    with transaction() as tx:
        return idempotency_keys.delete_expired(tx, KEYS_PER_BATCH)


def sweep(time_budget_seconds: float) -> SweepReport:
    """Works batch by batch until nothing is left or the budget is spent (the next run goes on from there)."""
    deadline = time.monotonic() + time_budget_seconds
    report = SweepReport()
    steps = (
        (_expire_booking_batch, BOOKINGS_PER_BATCH, "expired_bookings"),
        (_release_hold_batch, HOLDS_PER_BATCH, "released_holds"),
        (_delete_key_batch, KEYS_PER_BATCH, "deleted_idempotency_keys"),
    )
    for run_batch, batch_size, field in steps:
        while True:
            if time.monotonic() >= deadline:
                report.finished = False
                break
            done = run_batch()
            report.batches += 1
            setattr(report, field, getattr(report, field) + done)
            if done < batch_size:
                break
    count("HoldsExpired", report.released_holds)
    count("BookingsExpired", report.expired_bookings)
    if report.expired_bookings:
        domain_events.publish_after_commit()
    return report
