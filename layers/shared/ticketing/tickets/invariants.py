"""The tickets' invariants (docs/operations.md, "Invariant check"): no void ticket admitted, one live ticket
per seat."""

from __future__ import annotations

from ticketing.db.invariants import Invariant

NO_VOID_TICKET_ADMITTED = Invariant(
    "tickets.no_void_ticket_admitted",
    "no ticket was checked in at or after it became VOID",
    "SELECT id AS ticket_id, booking_id, checked_in_at, voided_at FROM tickets"
    " WHERE status = 'VOID' AND checked_in_at IS NOT NULL AND checked_in_at >= voided_at",
)

ONE_LIVE_TICKET_PER_SEAT = Invariant(
    "tickets.one_live_ticket_per_seat",
    "a seat has at most one ticket that is not VOID",
    "SELECT event_seat_id AS seat_id, array_agg(id ORDER BY id) AS ticket_ids FROM tickets"
    " WHERE status <> 'VOID' GROUP BY event_seat_id HAVING count(*) > 1",
)

INVARIANTS = (NO_VOID_TICKET_ADMITTED, ONE_LIVE_TICKET_PER_SEAT)
