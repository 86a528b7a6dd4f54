"""The bookings' invariants (docs/operations.md, "Invariant check"): every seat sold once, to one confirmed,
paid, ticketed booking, with its domain event recorded. Each query reads the bookings' own status, never the
status copies the triggers keep (docs/architecture.md), so a forged copy shows up here too.
"""

from __future__ import annotations

from ticketing.db.invariants import Invariant

_LIVE = "('PENDING', 'CONFIRMED')"

SEAT_IN_ONE_LIVE_BOOKING = Invariant(
    "bookings.seat_in_one_live_booking",
    "no seat is an item of two live (PENDING or CONFIRMED) bookings",
    "SELECT bi.event_seat_id AS seat_id, array_agg(b.id ORDER BY b.id) AS booking_ids"
    " FROM booking_items bi JOIN bookings b ON b.id = bi.booking_id"
    f" WHERE b.status IN {_LIVE} GROUP BY bi.event_seat_id HAVING count(*) > 1",
)

BOOKED_SEAT_IN_CONFIRMED_BOOKING = Invariant(
    "bookings.booked_seat_in_confirmed_booking",
    "every BOOKED seat is an item of the CONFIRMED booking it points at",
    "SELECT s.id AS seat_id, s.booking_id, b.status AS booking_status FROM event_seats s"
    " LEFT JOIN bookings b ON b.id = s.booking_id"
    " WHERE s.status = 'BOOKED' AND (b.status IS DISTINCT FROM 'CONFIRMED' OR NOT EXISTS ("
    "  SELECT 1 FROM booking_items bi WHERE bi.booking_id = s.booking_id AND bi.event_seat_id = s.id))",
)

CONFIRMED_BOOKING_SEATS_BOOKED = Invariant(
    "bookings.confirmed_booking_seats_booked",
    "every seat of a CONFIRMED booking is BOOKED by that booking",
    "SELECT b.id AS booking_id, s.id AS seat_id, s.status AS seat_status, s.booking_id AS seat_booking_id"
    " FROM bookings b JOIN booking_items bi ON bi.booking_id = b.id JOIN event_seats s ON s.id = bi.event_seat_id"
    " WHERE b.status = 'CONFIRMED' AND (s.status <> 'BOOKED' OR s.booking_id IS DISTINCT FROM b.id)",
)

HELD_SEAT_HAS_HOLDER_AND_EXPIRY = Invariant(
    "bookings.held_seat_has_holder_and_expiry",
    "every HELD seat has a holder and an expiry",
    "SELECT id AS seat_id, held_by, held_until FROM event_seats"
    " WHERE status = 'HELD' AND (held_by IS NULL OR held_until IS NULL)",
)

TOTALS_ADD_UP = Invariant(
    "bookings.totals_add_up",
    "a booking's subtotal is the sum of its items' prices and its total is subtotal minus discount",
    "SELECT b.id AS booking_id, b.subtotal, b.discount, b.total, COALESCE(sum(bi.price), 0) AS items_sum"
    " FROM bookings b LEFT JOIN booking_items bi ON bi.booking_id = b.id"
    " GROUP BY b.id HAVING b.subtotal <> COALESCE(sum(bi.price), 0)"
    " OR b.total <> b.subtotal - b.discount OR b.discount > b.subtotal",
)

SUCCEEDED_PAYMENT_OF_CONFIRMED_BOOKING = Invariant(
    "bookings.succeeded_payment_of_confirmed_booking",
    "every SUCCEEDED payment belongs to a CONFIRMED booking (otherwise its refund is queued or done)",
    "SELECT p.id AS payment_id, p.booking_id, b.status AS booking_status FROM payments p"
    " JOIN bookings b ON b.id = p.booking_id WHERE p.status = 'SUCCEEDED' AND b.status <> 'CONFIRMED'",
)

CONFIRMED_BOOKING_PAID = Invariant(
    "bookings.confirmed_booking_paid",
    "every CONFIRMED booking with a total above zero has exactly one SUCCEEDED payment of that total",
    "SELECT b.id AS booking_id, b.total, count(p.id) AS succeeded_payments, array_agg(p.amount) AS amounts"
    " FROM bookings b LEFT JOIN payments p ON p.booking_id = b.id AND p.status = 'SUCCEEDED'"
    " WHERE b.status = 'CONFIRMED' AND b.total > 0"
    " GROUP BY b.id HAVING count(p.id) <> 1 OR bool_or(p.amount <> b.total)",
)

CONFIRMED_BOOKING_TICKETED = Invariant(
    "bookings.confirmed_booking_ticketed",
    "every seat of a CONFIRMED booking has a ticket that is not VOID",
    "SELECT b.id AS booking_id, bi.event_seat_id AS seat_id FROM bookings b"
    " JOIN booking_items bi ON bi.booking_id = b.id WHERE b.status = 'CONFIRMED' AND NOT EXISTS ("
    "  SELECT 1 FROM tickets t WHERE t.booking_id = b.id AND t.event_seat_id = bi.event_seat_id"
    "  AND t.status <> 'VOID')",
)

# An event's cancellation voids its tickets right after commit (the outbox publisher's expansion); until then
# the event's CANCELLED status is what makes them void, so those are not counted here.
TICKETS_ONLY_FOR_CONFIRMED_BOOKINGS = Invariant(
    "bookings.tickets_only_for_confirmed_bookings",
    "a ticket that is not VOID belongs to a CONFIRMED booking (or to an event whose cancellation voids it)",
    "SELECT t.id AS ticket_id, t.booking_id, b.status AS booking_status, t.status AS ticket_status"
    " FROM tickets t JOIN bookings b ON b.id = t.booking_id JOIN events e ON e.id = t.event_id"
    " WHERE t.status <> 'VOID' AND b.status <> 'CONFIRMED' AND e.status <> 'CANCELLED'",
)

# The domain event each final status records in the same transaction (bookings.closing, bookings.settlement);
# bookings cancelled with their event get theirs from the EventCancelled row's expansion, queued until then.
_EVENT_OF_STATUS = (
    "(VALUES ('CONFIRMED', 'BookingConfirmed'), ('CANCELLED', 'BookingCancelled'), ('EXPIRED', 'BookingExpired'))"
)
ENDED_BOOKING_EVENT_RECORDED = Invariant(
    "bookings.domain_event_recorded",
    "every CONFIRMED, CANCELLED or EXPIRED booking has its domain event in the outbox (published or queued)",
    "SELECT b.id AS booking_id, b.status, s.event_type AS missing_event FROM bookings b"
    f" JOIN {_EVENT_OF_STATUS} AS s (status, event_type) ON s.status = b.status"
    " WHERE NOT EXISTS (SELECT 1 FROM outbox_events o WHERE o.event_type = s.event_type"
    "  AND o.payload->>'bookingId' = CAST(b.id AS text))"
    " AND NOT (b.status = 'CANCELLED' AND EXISTS (SELECT 1 FROM outbox_events o WHERE o.expand_bookings"
    "  AND o.event_type = 'EventCancelled' AND o.payload->>'eventId' = CAST(b.event_id AS text)))",
)

COUPON_RELEASED_WITH_BOOKING = Invariant(
    "bookings.coupon_released_with_booking",
    "a coupon redemption is live only while its booking is (CANCELLED and EXPIRED bookings give it back)",
    "SELECT r.id AS redemption_id, r.coupon_id, r.booking_id, b.status AS booking_status"
    " FROM coupon_redemptions r JOIN bookings b ON b.id = r.booking_id"
    f" WHERE r.released_at IS NULL AND b.status NOT IN {_LIVE}",
)

INVARIANTS = (
    SEAT_IN_ONE_LIVE_BOOKING,
    BOOKED_SEAT_IN_CONFIRMED_BOOKING,
    CONFIRMED_BOOKING_SEATS_BOOKED,
    HELD_SEAT_HAS_HOLDER_AND_EXPIRY,
    TOTALS_ADD_UP,
    SUCCEEDED_PAYMENT_OF_CONFIRMED_BOOKING,
    CONFIRMED_BOOKING_PAID,
    CONFIRMED_BOOKING_TICKETED,
    TICKETS_ONLY_FOR_CONFIRMED_BOOKINGS,
    ENDED_BOOKING_EVENT_RECORDED,
    COUPON_RELEASED_WITH_BOOKING,
)
