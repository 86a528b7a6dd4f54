"""A booking's tickets (`GET /api/bookings/{id}/tickets`): the booking decides who may see them and whether it
has any; the tickets aggregate shows them. Bookings issue and void tickets, so this direction is the one
dependency between the two: tickets import nothing of bookings."""

from __future__ import annotations

from uuid import UUID

from ticketing.auth.principal import Principal
from ticketing.bookings import repository as repo
from ticketing.db import transaction
from ticketing.errors import Conflict, NotFound
from ticketing.tickets import repository as tickets_repo
from ticketing.tickets.models import TicketList
from ticketing.tickets.service import ticket_views

CONFIRMED = "CONFIRMED"


def booking_tickets(principal: Principal, booking_id: UUID) -> TicketList:
    """The owner's (or an admin's) tickets of a CONFIRMED booking; anyone else gets the 404 of a missing one."""
    with transaction() as tx:
        booking = repo.find_booking(tx, booking_id)
        if booking is None or not (booking["user_id"] == principal.user_id or principal.is_admin):
            raise NotFound("No such booking.")
        if booking["status"] != CONFIRMED:
            raise Conflict(
                "Only a confirmed booking has tickets.",
                code="BOOKING_NOT_CONFIRMED",
                details={"status": booking["status"]},
            )
        rows = tickets_repo.tickets_of_booking(tx, booking_id, booking["user_id"])
    return TicketList(items=ticket_views(rows))
