"""Limits on the calls bots hammer (docs/security.md, "Rate limits"), shared by every Lambda environment.

- **Per account**: the buying calls (hold-seats, hold-best, queue join) of one account, together, at most
  RATE_LIMIT_ACCOUNT_PER_MINUTE per minute.
- **Per address**: register, login and refresh from one source address (an IPv6 address counts by its /64),
  together, at most RATE_LIMIT_ADDRESS_PER_MINUTE per minute.
- **Login failures**: after LOGIN_FAILURES_BEFORE_DELAY wrong passwords in a row for one account *from one
  address*, that address waits before its next try for this account: 1 s, then doubling per further failure,
  at most 15 minutes. A login that succeeds clears the count. Counting per account and address means an
  attacker elsewhere cannot lock the real user out; the per-address limit bounds how fast one address guesses.

Windows are fixed minutes (aligned to the epoch): one conditional DynamoDB update per call, and a refused call
writes nothing. A client can fit up to twice the limit across a window boundary; accepted for the price of one
write per call (a sliding window needs two items or a read). 0 turns a limit off, and without
WAITING_ROOM_TABLE (unit tests, a stack without the table) there are no limits.

When the store does not answer (the bounded client gives up within 4 s), the call is **allowed** (fail
open) and counted (`RateLimitStoreErrors`): a DynamoDB outage must not take logins and sales down with it, and
the stage-wide throttle and the WAF still stand in front. Every refusal is a 429 RATE_LIMITED with
`Retry-After` and a metric (`RateLimited`, or `LoginsDelayed` for the login delay).
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from uuid import UUID

from ticketing.config import get_settings
from ticketing.errors import InvalidCredentials, RateLimited
from ticketing.observability import count, logger
from ticketing.rate_limits import store

WINDOW_SECONDS = 60
LOGIN_DELAY_BASE_SECONDS = 1
LOGIN_DELAY_CAP_SECONDS = 15 * 60

# The clock; tests move it instead of sleeping.
now: Callable[[], float] = time.time


def login_delay_seconds(failures: int, threshold: int) -> int:
    """How long an address waits after its `failures`-th wrong password in a row (0 below `threshold`)."""
    if threshold <= 0 or failures < threshold:
        return 0
    return int(min(LOGIN_DELAY_BASE_SECONDS * 2 ** min(failures - threshold, 30), LOGIN_DELAY_CAP_SECONDS))


def limit_account(user_id: UUID) -> None:
    """Counts one buying call of the account; raises RateLimited past RATE_LIMIT_ACCOUNT_PER_MINUTE."""
    _take("account", str(user_id), get_settings().rate_limit_account_per_minute)


def limit_address(address: str) -> None:
    """Counts one register, login or refresh call of the address; raises RateLimited past the address limit."""
    _take("address", address, get_settings().rate_limit_address_per_minute)


def _take(scope: str, who: str, limit: int) -> None:
    table = get_settings().waiting_room_table
    if not table or limit <= 0:
        return
    moment = now()
    window_start = int(moment) // WINDOW_SECONDS * WINDOW_SECONDS
    window_end = window_start + WINDOW_SECONDS
    try:
        counted = store.take(
            table, key=f"LIMIT#{scope}#{who}", window_start=window_start, limit=limit, expires=window_end + 60
        )
    except store.StoreError:
        _store_failed(scope)
        return
    if not counted:
        count("RateLimited")
        raise RateLimited(
            f"Too many calls from this {scope}: at most {limit} a minute.",
            retry_after_seconds=math.ceil(window_end - moment),
            details={"limit": limit, "per": scope},
        )


@contextmanager
def login_attempts(email: str, address: str) -> Iterator[None]:
    """Guards one login: refuses it (429) while the address must wait for this account, records a wrong password
    (InvalidCredentials leaving the block), clears the count on success."""
    settings = get_settings()
    table, threshold = settings.waiting_room_table, settings.login_failures_before_delay
    if not table or threshold <= 0:
        yield
        return
    key = "LIMIT#login#" + hashlib.sha256(f"{email.strip().lower()}\n{address}".encode()).hexdigest()[:40]
    try:
        known = store.login_failures(table, key)
    except store.StoreError:
        _store_failed("login")
        known = None
    if known is not None:
        wait = known.last_failure + login_delay_seconds(known.failures, threshold) - now()
        if wait > 0:
            count("LoginsDelayed")
            raise RateLimited(
                "Too many wrong passwords for this account from here; wait before trying again.",
                retry_after_seconds=math.ceil(wait),
            )
    try:
        yield
    except InvalidCredentials:
        moment = now()
        expires = int(moment) + LOGIN_DELAY_CAP_SECONDS + 24 * 3600
        try:
            store.record_login_failure(table, key, at=moment, expires=expires)
        except store.StoreError:
            _store_failed("login")
        raise
    if known is not None:
        try:
            store.clear_login_failures(table, key)
        except store.StoreError:
            _store_failed("login")


def _store_failed(scope: str) -> None:
    count("RateLimitStoreErrors")
    logger.warning("the rate limit store did not answer; allowing the call", extra={"scope": scope}, exc_info=True)
