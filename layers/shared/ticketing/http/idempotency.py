"""`Idempotency-Key` for hold-seats, create, confirm and cancel: a retry gets the first answer, once.

1. The key is claimed in its own short transaction (`response_status` NULL = in flight), so a concurrent
   duplicate finds it and gets 409 IDEMPOTENCY_IN_PROGRESS instead of running (and charging) twice.
2. The operation runs in its own transaction(s).
3. The answer is stored with the key. Final answers are stored, errors included (a declined payment replays
   as the same 402); transient ones (5xx, anything carrying Retry-After such as SEATS_LOCKED, concurrent
   updates) are not: the key is forgotten so that a retry runs again.

Keys are per user, live 24 hours, and are bound to a SHA-256 of the operation, its path parameters and its
validated body: the same key with a different request is 422 IDEMPOTENCY_KEY_REUSED.

Operations whose work is one transaction with no external call (hold-seats, hold-best, create) run
**atomically** instead (`atomic=True`): the claim, the work and the answer are one transaction
(`ticketing.db.unit_of_work`; the operation's own transaction joins it), so no crash can leave work committed
without its answer. A concurrent duplicate waits on the key's row for the first to finish, then replays its
answer. Confirm and cancel call the payment provider between transactions, so they keep the steps above, with one
change to step 3: `execute` gets an `AnswerWriter`, and the transaction that commits the outcome (the settlement
that confirms the booking, the cancellation) stores the answer with it. An answer decided after that commit (the
cancel's refund that went through meanwhile) replaces it; one that commits no outcome of its own (a decline,
PAYMENT_PROVIDER_UNAVAILABLE, a 409) goes through step 3 as before: stored, or forgotten when transient
(docs/security.md, "Exactly-once delivery").
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from ticketing.db import Session, transaction, unit_of_work
from ticketing.errors import Conflict, DomainError, ValidationFailed
from ticketing.http import idempotency_keys as keys
from ticketing.http.responses import error_body

KEY_TTL_SECONDS = 24 * 3600
# An in-flight key older than this was abandoned: its invocation crashed or was killed (no API invocation outlives
# API Gateway's 29 s, nor its function's timeout). Longer only keeps the customer's retry at 409 for nothing after
# a crash (the chaos bench's worker kills found retries refused for two minutes).
IN_FLIGHT_LEASE_SECONDS = 30


@dataclass(frozen=True)
class Answer:
    status: int
    body: str
    replayed: bool = False


class AnswerWriter:
    """Stores a request's answer inside the operation's own transaction: the one that commits its outcome."""

    def __init__(self, user_id: UUID, key: str) -> None:
        self._user_id = user_id
        self._key = key
        self.stored: Answer | None = None

    def store(self, tx: Session, answer: Answer) -> None:
        keys.store_answer(tx, user_id=self._user_id, key=self._key, status=answer.status, body=answer.body)
        # Read once `execute` has returned, when the calling transaction has committed (a rollback raises past it).
        self.stored = answer


def request_hash(operation: str, request: dict[str, Any]) -> bytes:
    canonical = json.dumps({"operation": operation, "request": request}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).digest()


# Answers that say "not yet": a retry after the customer has acted must run again, not replay them.
_NOT_YET = frozenset({"CONCURRENT_UPDATE", "PAYMENT_REQUIRES_ACTION"})


def _is_transient(error: DomainError) -> bool:
    return error.status >= 500 or "Retry-After" in error.headers or error.code in _NOT_YET


def run_once(
    *,
    user_id: UUID,
    key: str | None,
    operation: str,
    request: dict[str, Any],
    execute: Callable[[AnswerWriter | None], Answer],
    atomic: bool = False,
) -> Answer:
    """Runs `execute` unless this user already sent this key; `request` is what makes two requests the same.
    `atomic`: `execute` is one transaction with no external call, and its answer commits with it. Otherwise, with
    a key, `execute` gets the writer its outcome's transaction stores the answer with; without one, None."""
    if key is None:
        return execute(None)
    fingerprint = request_hash(operation, request)
    if atomic:
        return _run_atomically(
            user_id=user_id, key=key, operation=operation, fingerprint=fingerprint, execute=lambda: execute(None)
        )
    with transaction() as tx:
        claimed = _claim(tx, user_id, key, operation, fingerprint)
        existing = None if claimed else keys.find(tx, user_id, key)
    if existing is not None:
        return _replay(existing, fingerprint)
    writer = AnswerWriter(user_id, key)
    try:
        answer = execute(writer)
    except DomainError as error:
        if _is_transient(error):
            _forget(user_id, key)
        elif writer.stored is None:
            _store(user_id, key, Answer(error.status, error_body(error.code, error.message, error.details)))
        # Else the outcome committed with its answer, which a retry replays: an error after it changes nothing.
        raise
    except BaseException:
        _forget(user_id, key)
        raise
    if writer.stored != answer:
        _store(user_id, key, answer)
    return answer


def _run_atomically(
    *, user_id: UUID, key: str, operation: str, fingerprint: bytes, execute: Callable[[], Answer]
) -> Answer:
    existing = None
    try:
        with unit_of_work() as tx:
            if _claim(tx, user_id, key, operation, fingerprint):
                answer = execute()
                keys.store_answer(tx, user_id=user_id, key=key, status=answer.status, body=answer.body)
            else:
                existing = keys.find(tx, user_id, key)
    except DomainError as error:
        # The work rolled back with the claim; a final refusal is remembered on its own, like a success.
        if not _is_transient(error):
            refusal = Answer(error.status, error_body(error.code, error.message, error.details))
            with transaction() as tx:
                if _claim(tx, user_id, key, operation, fingerprint):
                    keys.store_answer(tx, user_id=user_id, key=key, status=refusal.status, body=refusal.body)
        raise
    if existing is not None:
        return _replay(existing, fingerprint)
    return answer


def _claim(tx: Session, user_id: UUID, key: str, operation: str, fingerprint: bytes) -> bool:
    return keys.claim(
        tx,
        user_id=user_id,
        key=key,
        operation=operation,
        request_hash=fingerprint,
        ttl_seconds=KEY_TTL_SECONDS,
        lease_seconds=IN_FLIGHT_LEASE_SECONDS,
    )


def _replay(existing: dict[str, Any], fingerprint: bytes) -> Answer:
    if bytes(existing["request_hash"]) != fingerprint:
        raise ValidationFailed.for_field(
            "Idempotency-Key",
            "This Idempotency-Key was already used for a different request.",
            code="IDEMPOTENCY_KEY_REUSED",
        )
    if existing["response_status"] is None:
        raise Conflict(
            "A request with this Idempotency-Key is still in progress; retry in a second.",
            code="IDEMPOTENCY_IN_PROGRESS",
            headers={"Retry-After": "1"},
        )
    return Answer(existing["response_status"], existing["response_body"], replayed=True)


def _store(user_id: UUID, key: str, answer: Answer) -> None:
    with transaction() as tx:
        keys.store_answer(tx, user_id=user_id, key=key, status=answer.status, body=answer.body)


def _forget(user_id: UUID, key: str) -> None:
    with transaction() as tx:
        keys.forget(tx, user_id, key)
