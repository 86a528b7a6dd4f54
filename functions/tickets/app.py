"""TicketsFunction: tickets (/api/tickets/*, /api/bookings/{id}/tickets) and check-in (/api/events/{id}/check-in/*).

The only function that signs or verifies ticket codes, so the only one that loads `cryptography` (with PyJWT):
at its first code, or, under SnapStart, before the snapshot, so restored environments start with the key ring
loaded.
"""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

from ticketing.bookings.booking_tickets import booking_tickets as tickets_of_booking
from ticketing.http.operations import answers
from ticketing.http.paging import PageNumber, PageSize
from ticketing.http.resolver import create_resolver, lambda_entrypoint
from ticketing.http.security import CurrentUser, OrganizerOrAdmin
from ticketing.http.tags import ApiTag
from ticketing.models import Page, UtcInput
from ticketing.snapstart import warm_before_snapshot
from ticketing.tickets import check_in, codes, service
from ticketing.tickets.models import (
    CheckInBatch,
    CheckInBatchResult,
    CheckInRequest,
    CheckInResult,
    PublicKeys,
    RevocationFeed,
    TicketList,
    TicketOut,
    TransferRequest,
)

app = create_resolver(tag=ApiTag.TICKETS)

SVG = "image/svg+xml"
_QR_RESPONSES: dict[int, OpenAPIResponse] = {
    200: {"description": "A QR code of the ticket's code", "content": {SVG: {"schema": {"type": "string"}}}}
}


@app.get("/api/bookings/<booking_id>/tickets", summary="The tickets of a CONFIRMED booking, one per seat")
@answers(TicketList, errors={404: ["NOT_FOUND"], 409: ["BOOKING_NOT_CONFIRMED"]})
def booking_tickets(booking_id: UUID, caller: CurrentUser) -> TicketList:
    """The booking's owner or an ADMIN; anyone else 404. Each ticket's `code` is a signed JWS that scanners
    verify offline with /api/tickets/public-key (docs/tickets.md)."""
    return tickets_of_booking(caller, booking_id)


@app.get("/api/tickets", summary="The caller's tickets, bought or received")
def list_tickets(
    caller: CurrentUser,
    page: PageNumber = 1,
    page_size: PageSize = 20,
    event_id: Annotated[UUID | None, Query(alias="eventId")] = None,
) -> Page[TicketOut]:
    """Every ticket the caller holds or held: bought, received by transfer, or given away (VOID)."""
    return service.my_tickets(caller, event_id=event_id, page=page, page_size=page_size)


@app.get("/api/tickets/public-key", summary="Public keys that verify ticket codes offline (EdDSA, Ed25519)")
@answers(PublicKeys, headers={"Cache-Control": "public, max-age=300"})
def public_key() -> Response[PublicKeys]:
    """Public: every key that verifies ticket codes (the signing key first, older ones kept for rotation), as PEM
    with its `kid`, so gates can verify codes without the network."""
    return Response(
        status_code=200,
        content_type="application/json",
        body=service.public_keys(),
        headers={"Cache-Control": "public, max-age=300"},
    )


@app.get("/api/tickets/<ticket_id>/qr.svg", summary="The ticket's code as a QR code (holder)", responses=_QR_RESPONSES)
@answers(errors={404: ["NOT_FOUND"]})
def ticket_qr(ticket_id: UUID, caller: CurrentUser) -> Response[str]:
    """The ticket's holder only (anyone else 404): an SVG QR code of the ticket's `code`."""
    return Response(
        status_code=200, content_type=SVG, body=service.qr_svg(caller, ticket_id), headers={"Cache-Control": "private"}
    )


@app.post("/api/tickets/<ticket_id>/transfer", summary="Give a ticket to another user: new ticket, old one void")
@answers(
    TicketOut,
    errors={
        404: ["NOT_FOUND"],
        409: ["TICKET_VOID", "ALREADY_CHECKED_IN", "EVENT_STARTED"],
        422: ["RECEIVER_NOT_FOUND"],
    },
)
def transfer_ticket(ticket_id: UUID, body: TransferRequest, caller: CurrentUser) -> TicketOut:
    """The receiver's new ticket for the same seat (new id, new code); the old one is VOID at once and joins the
    revocation feed. Refused after check-in or once the event has started."""
    return service.transfer(caller, ticket_id, body)


@app.get("/api/events/<event_id>/check-in/revoked", summary="Void tickets offline scanners must refuse")
@answers(RevocationFeed, errors={404: ["NOT_FOUND"]})
def revoked_tickets(
    event_id: UUID,
    caller: OrganizerOrAdmin,
    since: Annotated[UtcInput | None, Query(description="serverTime of the previous answer")] = None,
) -> RevocationFeed:
    """The event's organizer or an ADMIN: tickets voided since `since` (all when absent), which offline scanners
    must refuse although their signature is good. Pass the previous answer's serverTime as the next `since`."""
    return check_in.revoked(caller, event_id, since)


@app.post("/api/events/<event_id>/check-in", summary="Admit a ticket at a gate (exactly once)")
@answers(
    CheckInResult,
    errors={
        404: ["NOT_FOUND"],
        409: ["ALREADY_CHECKED_IN", "WRONG_EVENT", "TICKET_VOID"],
        422: ["INVALID_TICKET"],
    },
)
def check_in_ticket(event_id: UUID, body: CheckInRequest, caller: OrganizerOrAdmin) -> CheckInResult:
    """The first scan of a valid ticket admits it; any later one is 409 ALREADY_CHECKED_IN with
    details.checkedInAt, however many gates scan at once. A retry with the same scanId repeats the first answer."""
    return check_in.check_in(caller, event_id, body)


@app.post("/api/events/<event_id>/check-in/batch", summary="Upload up to 500 offline scans; earliest scan wins")
@answers(CheckInBatchResult, errors={404: ["NOT_FOUND"]})
def check_in_batch(event_id: UUID, body: CheckInBatch, caller: OrganizerOrAdmin) -> CheckInBatchResult:
    """Scans a gate made offline, each judged as if it arrived at its scannedAt (the earliest scan of a ticket
    wins); one result per scan, in request order, with the status and code a single check-in would answer."""
    return check_in.check_in_batch(caller, event_id, body)


lambda_handler = lambda_entrypoint(app)
warm_before_snapshot(codes.warm_up)
