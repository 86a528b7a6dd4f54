"""TicketsFunction: tickets (/api/tickets/*, /api/bookings/{id}/tickets) and check-in (/api/events/{id}/check-in/*).

The only function that signs or verifies ticket codes, so the only one that loads `cryptography`.
"""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

from ticketing.http.paging import PageNumber, PageSize
from ticketing.http.resolver import create_resolver, lambda_entrypoint
from ticketing.http.security import CurrentUser, OrganizerOrAdmin
from ticketing.models import Page, UtcInput
from ticketing.tickets import check_in, service
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

app = create_resolver()

SVG = "image/svg+xml"
_QR_RESPONSES: dict[int, OpenAPIResponse] = {
    200: {"description": "A QR code of the ticket's code", "content": {SVG: {"schema": {"type": "string"}}}}
}


@app.get("/api/bookings/<booking_id>/tickets", summary="The tickets of a CONFIRMED booking, one per seat")
def booking_tickets(booking_id: UUID, caller: CurrentUser) -> TicketList:
    return service.booking_tickets(caller, booking_id)


@app.get("/api/tickets", summary="The caller's tickets, bought or received")
def list_tickets(
    caller: CurrentUser,
    page: PageNumber = 1,
    page_size: PageSize = 20,
    event_id: Annotated[UUID | None, Query(alias="eventId")] = None,
) -> Page[TicketOut]:
    return service.my_tickets(caller, event_id=event_id, page=page, page_size=page_size)


@app.get("/api/tickets/public-key", summary="Public keys that verify ticket codes offline (EdDSA, Ed25519)")
def public_key() -> Response[PublicKeys]:
    return Response(
        status_code=200,
        content_type="application/json",
        body=service.public_keys(),
        headers={"Cache-Control": "public, max-age=300"},
    )


@app.get("/api/tickets/<ticket_id>/qr.svg", summary="The ticket's code as a QR code (holder)", responses=_QR_RESPONSES)
def ticket_qr(ticket_id: UUID, caller: CurrentUser) -> Response[str]:
    return Response(
        status_code=200, content_type=SVG, body=service.qr_svg(caller, ticket_id), headers={"Cache-Control": "private"}
    )


@app.post("/api/tickets/<ticket_id>/transfer", summary="Give a ticket to another user: new ticket, old one void")
def transfer_ticket(ticket_id: UUID, body: TransferRequest, caller: CurrentUser) -> TicketOut:
    return service.transfer(caller, ticket_id, body)


@app.get("/api/events/<event_id>/check-in/revoked", summary="Void tickets offline scanners must refuse")
def revoked_tickets(
    event_id: UUID,
    caller: OrganizerOrAdmin,
    since: Annotated[UtcInput | None, Query(description="serverTime of the previous answer")] = None,
) -> RevocationFeed:
    return check_in.revoked(caller, event_id, since)


@app.post("/api/events/<event_id>/check-in", summary="Admit a ticket at a gate (exactly once)")
def check_in_ticket(event_id: UUID, body: CheckInRequest, caller: OrganizerOrAdmin) -> CheckInResult:
    return check_in.check_in(caller, event_id, body)


@app.post("/api/events/<event_id>/check-in/batch", summary="Upload up to 500 offline scans; earliest scan wins")
def check_in_batch(event_id: UUID, body: CheckInBatch, caller: OrganizerOrAdmin) -> CheckInBatchResult:
    return check_in.check_in_batch(caller, event_id, body)


lambda_handler = lambda_entrypoint(app)
