"""Sends outbox rows to EventBridge (PutEvents) and settles them: published, or attempts + 1 and the error.

Claim, commit, send, mark: a short transaction leases the rows to this publisher and commits; PutEvents runs
with no transaction open; a second short transaction marks what was accepted (or counts the failures). A
publisher that dies after sending leaves its lease to expire and the rows go out again: at least once on the
bus, exactly once for consumers, which deduplicate on `detail.domainEventId` (the outbox row's id).
"""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from ticketing.aws_clients import aws_client, budget
from ticketing.config import get_settings
from ticketing.db import Session, transaction
from ticketing.db.connection import Row
from ticketing.domain_events import DEDUPLICATION_KEY, repository
from ticketing.observability import count, logger

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient

SOURCE = "ticketing"
# PutEvents takes at most 10 entries per call.
PUT_EVENTS_BATCH = 10
# After this many failed attempts an event is reported (error log + OutboxPublishFailures); it is still retried.
REPORT_AFTER_ATTEMPTS = 5
# Events one sweep transaction claims.
SWEEP_BATCH = 100
# The request that recorded an event tries once, within one PutEvents call; the rest is the sweep's job.
FRESH_LIMIT = PUT_EVENTS_BATCH
# Time past the PutEvents calls' worst case for the marking transaction before a claim may be taken over.
LEASE_MARGIN_SECONDS = 30


def _events_client() -> EventBridgeClient:
    client: EventBridgeClient = aws_client("events")
    return client


def publish_pending(limit: int = SWEEP_BATCH) -> int:
    """Publishes up to `limit` unpublished events (oldest failures last) and answers how many went out."""
    return _publish(limit=limit, max_attempts=None)


def publish_fresh() -> int:
    """Publishes events nobody has tried yet; never raises (the sweep retries what is left)."""
    try:
        return _publish(limit=FRESH_LIMIT, max_attempts=1)
    except Exception:
        logger.warning("publishing domain events after commit failed; the outbox sweep will retry", exc_info=True)
        return 0


def _publish(*, limit: int, max_attempts: int | None) -> int:
    bus_name = get_settings().event_bus_name
    if not bus_name:
        logger.debug("EVENT_BUS_NAME is not set: domain events stay in the outbox")
        return 0
    with transaction() as tx:
        rows = repository.claim_unpublished(
            tx, limit=limit, lease_seconds=lease_seconds(limit), max_attempts=max_attempts
        )
    rows.sort(key=lambda row: (row["attempts"], row["created_at"]))
    published = 0
    for start in range(0, len(rows), PUT_EVENTS_BATCH):
        batch = rows[start : start + PUT_EVENTS_BATCH]
        errors = _put_events(bus_name, batch)
        with transaction() as tx:
            repository.mark_published(tx, [row["id"] for row, error in zip(batch, errors, strict=True) if not error])
            for row, error in zip(batch, errors, strict=True):
                if error:
                    _settle_failure(tx, row, error)
        published += errors.count(None)
    return published


def lease_seconds(limit: int) -> float:
    """How long a claim of `limit` rows keeps other publishers off them: every PutEvents call of the claim at
    its worst case (ticketing.aws_clients), plus a margin for marking."""
    calls = math.ceil(limit / PUT_EVENTS_BATCH)
    return calls * budget("events").worst_case_seconds + LEASE_MARGIN_SECONDS


def _put_events(bus_name: str, batch: list[Row]) -> list[str | None]:
    """One PutEvents call; answers, per row, None when it was accepted or the error that refused it."""
    entries: list[Any] = [
        {"EventBusName": bus_name, "Source": SOURCE, "DetailType": row["event_type"], "Detail": _detail(row)}
        for row in batch
    ]
    try:
        response = _events_client().put_events(Entries=entries)
    except (ClientError, BotoCoreError) as error:
        return [f"PutEvents failed: {error}"] * len(batch)
    results = response.get("Entries", [])
    if len(results) != len(batch):
        return [f"PutEvents answered {len(results)} results for {len(batch)} entries"] * len(batch)
    return [
        f"{result['ErrorCode']}: {result.get('ErrorMessage', '')}" if result.get("ErrorCode") else None
        for result in results
    ]


def _detail(row: Row) -> str:
    payload = row["payload"]
    detail = json.loads(payload) if isinstance(payload, str) else dict(payload)
    return json.dumps({**detail, DEDUPLICATION_KEY: str(row["id"])}, separators=(",", ":"))


def _settle_failure(tx: Session, row: Row, error: str) -> None:
    attempts = repository.mark_failed(tx, row["id"], error)
    if attempts == REPORT_AFTER_ATTEMPTS:
        logger.error(
            "domain event still unpublished after repeated attempts",
            extra={"outboxId": str(row["id"]), "eventType": row["event_type"], "attempts": attempts, "error": error},
        )
        count("OutboxPublishFailures")
    else:
        logger.warning(
            "domain event not published; will retry",
            extra={"outboxId": str(row["id"]), "eventType": row["event_type"], "attempts": attempts, "error": error},
        )
