"""Tickets for their holders (docs/tickets.md): read, show as a QR code, transfer; the public keys.

Tickets are issued by the confirm transaction and voided by whatever ends a booking (bookings code, through
ticketing.tickets.repository); this module signs their codes when it shows them.
"""

from __future__ import annotations

import io
from datetime import datetime
from uuid import UUID

from ticketing import domain_events
from ticketing.auth.principal import Principal
from ticketing.db import Session, transaction
from ticketing.db.connection import Row
from ticketing.errors import Conflict, NotFound, ValidationFailed
from ticketing.http.paging import page_offset
from ticketing.models import Page
from ticketing.notifications.repository import notify
from ticketing.observability import count
from ticketing.tickets import codes
from ticketing.tickets import repository as repo
from ticketing.tickets.models import (
    TIMESTAMP,
    PublicKey,
    PublicKeys,
    TicketOut,
    TicketStatus,
    TransferRequest,
)
from ticketing.users import repository as users_repo

QR_ERROR_CORRECTION = "m"


def ticket_views(rows: list[Row]) -> list[TicketOut]:
    ring = codes.key_ring()
    return [TicketOut.from_row(row, code=codes.sign(row["id"], row["event_id"], ring)) for row in rows]


def ticket_void() -> Conflict:
    return Conflict("This ticket is void: its booking was cancelled or it was transferred.", code="TICKET_VOID")


def already_checked_in(checked_in_at: datetime) -> Conflict:
    return Conflict(
        "This ticket has already been checked in.",
        code="ALREADY_CHECKED_IN",
        details={"checkedInAt": TIMESTAMP.dump_python(checked_in_at)},
    )


def my_tickets(principal: Principal, *, event_id: UUID | None, page: int, page_size: int) -> Page[TicketOut]:
    with transaction() as tx:
        rows, total = repo.tickets_of_holder(
            tx, principal.user_id, event_id, limit=page_size, offset=page_offset(page, page_size)
        )
    return Page[TicketOut](items=ticket_views(rows), page=page, page_size=page_size, total=total)


def _held_ticket(tx: Session, principal: Principal, ticket_id: UUID) -> Row:
    ticket = repo.find_ticket(tx, ticket_id)
    if ticket is None or ticket["holder_id"] != principal.user_id:
        raise NotFound("No such ticket.")
    return ticket


def qr_svg(principal: Principal, ticket_id: UUID) -> str:
    """The ticket's code as a QR code (SVG), for its holder; a void ticket has none to show."""
    with transaction() as tx:
        ticket = _held_ticket(tx, principal, ticket_id)
    if ticket["status"] == TicketStatus.VOID:
        raise ticket_void()
    # Imported here: only this route draws QR codes.
    import segno

    buffer = io.BytesIO()
    segno.make(codes.sign(ticket["id"], ticket["event_id"]), error=QR_ERROR_CORRECTION).save(
        buffer, kind="svg", scale=4, border=4, title="Ticket"
    )
    return buffer.getvalue().decode("utf-8")


def transfer(principal: Principal, ticket_id: UUID, request: TransferRequest) -> TicketOut:
    """Gives the ticket to another registered user: a new ticket (new id, new code), the old one void now."""
    with transaction() as tx:
        receiver = users_repo.find_by_email(tx, request.email)
        if receiver is None:
            raise ValidationFailed.for_field("email", "No registered user has this e-mail.", code="RECEIVER_NOT_FOUND")
        if receiver["id"] == principal.user_id:
            raise ValidationFailed.for_field("email", "You already hold this ticket.", code="RECEIVER_NOT_FOUND")
        voided = repo.void_for_transfer(tx, ticket_id, principal.user_id)
        if voided is None:
            raise _why_not_transferable(tx, principal, ticket_id)
        new_id = repo.insert_transferred(tx, voided, receiver["id"])
        notify(
            tx,
            user_id=receiver["id"],
            type="TICKET_RECEIVED",
            title="You received a ticket",
            body="A ticket was transferred to you; it is in your tickets.",
            data={"ticketId": str(new_id), "eventId": str(voided["event_id"])},
        )
        domain_events.record(
            tx,
            event_type=domain_events.TICKET_TRANSFERRED,
            payload={
                "ticketId": str(new_id),
                "previousTicketId": str(ticket_id),
                "bookingId": str(voided["booking_id"]),
                "eventId": str(voided["event_id"]),
                "fromUserId": str(principal.user_id),
                "toUserId": str(receiver["id"]),
            },
        )
        ticket = repo.find_ticket(tx, new_id)
    count("TicketsTransferred")
    domain_events.publish_after_commit()
    if ticket is None:
        raise NotFound("No such ticket.")
    return ticket_views([ticket])[0]


def _why_not_transferable(tx: Session, principal: Principal, ticket_id: UUID) -> Exception:
    ticket = _held_ticket(tx, principal, ticket_id)
    if ticket["status"] == TicketStatus.VOID:
        return ticket_void()
    if ticket["status"] == TicketStatus.CHECKED_IN:
        return already_checked_in(ticket["checked_in_at"])
    return Conflict("The event has started; its tickets can no longer be transferred.", code="EVENT_STARTED")


def public_keys() -> PublicKeys:
    ring = codes.key_ring()
    return PublicKeys(keys=[PublicKey(kid=kid, public_key=pem) for kid, pem in ring.public_keys_pem()])
