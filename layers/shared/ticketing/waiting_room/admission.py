"""The buying path's side of the room: the admission check and the health samples the controller steers by.

`buying_call` wraps hold-seats, hold-best and bookings/create (functions/bookings/app.py). For an event whose
room is enabled it requires `X-Admission-Token` and verifies it from the public key alone: besides the
cached room settings (room_cache) nothing is read, neither the database nor the queue. So the buying path
keeps working for admitted buyers while the room's store is down, and nobody new is admitted (fail closed:
joining and polling answer 503). An event without a room is not touched.

It also times each such call and counts the answers the controller backs off on (SEATS_LOCKED, 5xx), the
bookings made and the sessions released (`session_released`: a buyer who lets go of all its holds without
booking; docs/decisions.md); each environment writes what it saw to the store at most every SAMPLE_SECONDS, so the
crowd's health costs the store a few writes a minute per environment, never one per buyer. A sample that
cannot be written is dropped (the controller then sees less traffic, not an error).
"""

from __future__ import annotations

import math
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from uuid import UUID

from ticketing.auth.principal import Principal
from ticketing.errors import DomainError, Forbidden
from ticketing.observability import logger
from ticketing.waiting_room import health_log, tokens
from ticketing.waiting_room.room_cache import room_settings

SAMPLE_SECONDS = 5.0
# Answers that say the buying path is overloaded, not that the buyer asked for something impossible.
OVERLOAD_CODES = frozenset({"SEATS_LOCKED"})
_ENVIRONMENT = secrets.token_hex(4)


@dataclass
class _Window:
    started: float = field(default_factory=time.monotonic)
    latencies_ms: list[float] = field(default_factory=list)
    bad: int = 0
    booked: int = 0
    released: int = 0

    def sample(self) -> health_log.HealthSample:
        ordered = sorted(self.latencies_ms)
        p99 = ordered[max(0, math.ceil(0.99 * len(ordered)) - 1)] if ordered else 0.0
        return health_log.HealthSample(
            calls=len(ordered), bad=self.bad, p99_ms=p99, booked=self.booked, released=self.released
        )


_windows: dict[UUID, _Window] = {}


def _record(event_id: UUID, elapsed_ms: float | None, *, bad: bool = False, booked: bool = False) -> None:
    window = _windows.setdefault(event_id, _Window())
    if elapsed_ms is None:
        window.released += 1
    else:
        window.latencies_ms.append(elapsed_ms)
    window.bad += bad
    window.booked += booked
    if time.monotonic() - window.started < SAMPLE_SECONDS:
        return
    del _windows[event_id]
    try:
        health_log.put_health_sample(event_id, int(time.time()), _ENVIRONMENT, window.sample())
    except Exception:
        logger.warning("waiting room health sample dropped", extra={"eventId": str(event_id)}, exc_info=True)


def check_admission(principal: Principal, event_id: UUID, token: str | None) -> bool:
    """True when the event has a room and `token` admits the caller; False when the event has no room.
    403 ADMISSION_REQUIRED, ADMISSION_EXPIRED or ADMISSION_INVALID otherwise."""
    settings = room_settings(event_id)
    if settings is None or not settings.enabled:
        return False
    if not token:
        raise Forbidden(
            "This event sells through its waiting room: join it, and send the admission token you get as "
            "X-Admission-Token.",
            code="ADMISSION_REQUIRED",
        )
    tokens.verify(token, user_id=principal.user_id, event_id=event_id)
    return True


@contextmanager
def buying_call(principal: Principal, event_id: UUID, token: str | None, *, books: bool = False) -> Iterator[None]:
    """Checks the admission, then times the call and samples its outcome (events with a room only)."""
    if not check_admission(principal, event_id, token):
        yield
        return
    started = time.perf_counter()
    outcome = "overloaded"  # an unexpected exception is a 500
    try:
        yield
        outcome = "done"
    except DomainError as error:
        outcome = "overloaded" if error.status >= 500 or error.code in OVERLOAD_CODES else "refused"
        raise
    finally:
        elapsed_ms = (time.perf_counter() - started) * 1000
        _record(event_id, elapsed_ms, bad=outcome == "overloaded", booked=books and outcome == "done")


def session_released(event_id: UUID, released_seats: int, *, all_holds: bool) -> None:
    """A buyer let go of every seat it held for the event (release-seats without seatIds) and booked nothing:
    its session ends, and the controller admits the next one in its place (events with a room only)."""
    settings = room_settings(event_id)
    if settings is None or not settings.enabled or not all_holds or not released_seats:
        return
    _record(event_id, None)
