"""Check-in at the gates (docs/tickets.md): online scans one at a time, offline scans in batches.

Both go through `_judge`: verify the codes (no database needed), pick per ticket the earliest scan, admit
them with one conditional UPDATE, then read the tickets once to say why every other scan lost. A single
online scan is a batch of one judged at the database's `now()`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from ticketing import domain_events
from ticketing.auth.principal import Principal
from ticketing.db import Session, transaction
from ticketing.errors import Conflict, DomainError, Forbidden, NotFound
from ticketing.observability import count
from ticketing.tickets import codes
from ticketing.tickets import repository as repo
from ticketing.tickets.models import (
    TIMESTAMP,
    CheckInBatch,
    CheckInBatchResult,
    CheckInRequest,
    CheckInResult,
    Revocation,
    RevocationFeed,
    ScanResult,
    TicketStatus,
)
from ticketing.tickets.service import already_checked_in, ticket_views, ticket_void

INVALID_TICKET = "INVALID_TICKET"
WRONG_EVENT = "WRONG_EVENT"
TICKET_VOID = "TICKET_VOID"
ALREADY_CHECKED_IN = "ALREADY_CHECKED_IN"


@dataclass(frozen=True)
class _Scan:
    code: str
    scan_id: str | None
    scanned_at: datetime | None  # None: now (an online scan)


@dataclass(frozen=True)
class _Verdict:
    """What one scan gets: 200 with the admission time, or an error code with its status."""

    status: int
    error: str | None = None
    ticket_id: UUID | None = None
    checked_in_at: datetime | None = None

    def as_error(self) -> DomainError:
        if self.error == ALREADY_CHECKED_IN and self.checked_in_at is not None:
            return already_checked_in(self.checked_in_at)
        if self.error == TICKET_VOID:
            return ticket_void()
        if self.error == WRONG_EVENT:
            return Conflict("This ticket is for another event.", code=WRONG_EVENT)
        return codes.invalid_ticket()


def _managed_event(tx: Session, principal: Principal, event_id: UUID) -> bool:
    """Checks the caller runs the event's gates; answers whether the event is cancelled (all its tickets void)."""
    event = repo.managed_event(tx, event_id)
    if event is None:
        raise NotFound("No such event.")
    if not (principal.is_admin or event["organizer_id"] == principal.user_id):
        raise Forbidden("Only the event's organizer or an admin can check tickets in.")
    return bool(event["status"] == "CANCELLED")


def _claims(scan: _Scan, event_id: UUID, ring: codes.KeyRing) -> codes.TicketClaims | _Verdict:
    try:
        claims = codes.verify(scan.code, ring)
    except DomainError:
        return _Verdict(422, INVALID_TICKET)
    if claims.event_id != event_id:
        return _Verdict(409, WRONG_EVENT)
    return claims


def _earliest_scan_per_ticket(scans: list[_Scan], claimed: list[codes.TicketClaims | _Verdict]) -> dict[UUID, int]:
    """Per ticket, the index of its earliest scan (request order breaks ties; an online scan is the latest)."""
    earliest: dict[UUID, int] = {}
    for index, claims in enumerate(claimed):
        if isinstance(claims, _Verdict):
            continue
        best = earliest.get(claims.ticket_id)
        if best is None or _sort_key(scans[index]) < _sort_key(scans[best]):
            earliest[claims.ticket_id] = index
    return earliest


def _sort_key(scan: _Scan) -> tuple[bool, datetime | None]:
    return (scan.scanned_at is None, scan.scanned_at)


def _judge(
    tx: Session, principal: Principal, event_id: UUID, scans: list[_Scan], *, event_cancelled: bool
) -> list[_Verdict]:
    """With `event_cancelled` nothing is admitted: every ticket of a cancelled event is void, whether or not the
    outbox publisher has written VOID into its row yet (docs/tickets.md)."""
    ring = codes.key_ring()
    claimed = [_claims(scan, event_id, ring) for scan in scans]
    earliest = _earliest_scan_per_ticket(scans, claimed)
    if len(earliest) > 1 and not event_cancelled:
        repo.lock_in_id_order(tx, list(earliest))
    candidates = (
        []
        if event_cancelled
        else [(ticket_id, scans[i].scanned_at, scans[i].scan_id) for ticket_id, i in earliest.items()]
    )
    admitted = repo.check_in(tx, event_id, candidates, gate_user_id=principal.user_id) if candidates else {}
    # The winners' state came back from the UPDATE; only the other tickets are read to explain a refusal.
    states = {**repo.ticket_states(tx, [t for t in earliest if t not in admitted]), **admitted}
    verdicts: list[_Verdict] = []
    for index, (scan, claims) in enumerate(zip(scans, claimed, strict=True)):
        if isinstance(claims, _Verdict):
            verdicts.append(claims)
            continue
        state = states.get(claims.ticket_id)
        won = claims.ticket_id in admitted and earliest[claims.ticket_id] == index
        repeated = state is not None and scan.scan_id is not None and state["check_in_scan_id"] == scan.scan_id
        if state is None:
            verdicts.append(_Verdict(422, INVALID_TICKET))
        elif won or repeated:
            verdicts.append(_Verdict(200, ticket_id=claims.ticket_id, checked_in_at=state["checked_in_at"]))
        elif event_cancelled or state["status"] == TicketStatus.VOID:
            verdicts.append(_Verdict(409, TICKET_VOID, claims.ticket_id))
        else:
            verdicts.append(_Verdict(409, ALREADY_CHECKED_IN, claims.ticket_id, state["checked_in_at"]))
    domain_events.record_many(
        tx,
        event_type=domain_events.TICKET_CHECKED_IN,
        payloads=[
            {
                "ticketId": str(row["id"]),
                "eventId": str(event_id),
                "holderId": str(row["holder_id"]),
                "checkedInAt": TIMESTAMP.dump_python(row["checked_in_at"]),
                "scanId": row["check_in_scan_id"],
                "checkedInBy": str(principal.user_id),
            }
            for row in admitted.values()
        ],
    )
    count("TicketsCheckedIn", len(admitted))
    count("CheckInsRefused", sum(1 for verdict in verdicts if verdict.status != 200))
    return verdicts


def check_in(principal: Principal, event_id: UUID, request: CheckInRequest) -> CheckInResult:
    """Admits the ticket the first time; a retry with the same scanId answers the same."""
    with transaction() as tx:
        cancelled = _managed_event(tx, principal, event_id)
        scan = _Scan(request.code, request.scan_id, None)
        [verdict] = _judge(tx, principal, event_id, [scan], event_cancelled=cancelled)
        if verdict.status != 200 or verdict.ticket_id is None or verdict.checked_in_at is None:
            # Nothing was admitted, so rolling back loses nothing; the refusal is the answer.
            raise verdict.as_error()
        ticket = repo.find_ticket(tx, verdict.ticket_id)
    domain_events.publish_after_commit()
    if ticket is None:
        raise codes.invalid_ticket()
    return CheckInResult(ticket=ticket_views([ticket])[0], checked_in_at=verdict.checked_in_at)


def check_in_batch(principal: Principal, event_id: UUID, batch: CheckInBatch) -> CheckInBatchResult:
    """Scans a gate made offline, each judged at its scannedAt (the earliest of a ticket wins), in request order."""
    scans = [_Scan(scan.code, scan.scan_id, scan.scanned_at) for scan in batch.scans]
    with transaction() as tx:
        cancelled = _managed_event(tx, principal, event_id)
        verdicts = _judge(tx, principal, event_id, scans, event_cancelled=cancelled)
    domain_events.publish_after_commit()
    return CheckInBatchResult(
        results=[
            ScanResult(
                scan_id=scan.scan_id or "",
                status=verdict.status,
                code=verdict.error,
                checked_in_at=verdict.checked_in_at,
            )
            for scan, verdict in zip(scans, verdicts, strict=True)
        ]
    )


def revoked(principal: Principal, event_id: UUID, since: datetime | None) -> RevocationFeed:
    with transaction() as tx:
        _managed_event(tx, principal, event_id)
        rows, server_time = repo.revocations(tx, event_id, since)
    return RevocationFeed(items=[Revocation.from_row(row) for row in rows], server_time=server_time)
