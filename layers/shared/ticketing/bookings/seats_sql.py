"""SQL fragments about event seats that the holds, the seat search and the bookings' lifecycle share."""

from __future__ import annotations

from ticketing.payments.repository import payment_in_flight

SEAT_STATE_COLUMNS = """
    id, status, held_by, held_until, booking_id, hold_extensions,
    (status = 'HELD' AND booking_id IS NULL AND held_until > now()) AS live_hold
"""

# A seat as the buyer sees it: section name, row label, number and this event's price.
SEAT_VIEW = """
    event_seats es
    JOIN venue_seats vs ON vs.id = es.venue_seat_id
    JOIN sections s ON s.id = es.section_id
    JOIN event_sections p ON p.event_id = es.event_id AND p.section_id = es.section_id
"""

# A seat released: free again, its hold forgotten.
RELEASED_SEAT = "status = 'AVAILABLE', held_by = NULL, held_until = NULL, hold_extensions = 0"

# Free for a new hold: available, or held by a hold that has run out (a PENDING booking past its payment
# window included: its seats' `held_until` is the booking's `expiresAt`), whether or not the job has run; but not
# the seats of a booking whose payment is in flight, which keeps its window open (docs/payments.md).
FREE_FOR_HOLD = (
    "(es.status = 'AVAILABLE' OR (es.status = 'HELD' AND es.held_until <= now()"
    f" AND (es.booking_id IS NULL OR NOT {payment_in_flight('es.booking_id')})))"
)
