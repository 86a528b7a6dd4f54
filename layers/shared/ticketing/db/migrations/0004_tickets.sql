-- Tickets: one per seat of a CONFIRMED booking, written in the confirm transaction (docs/tickets.md).
-- A ticket's code is not stored: it is the Ed25519 signature of {tid, eid}, derived when it is shown.

CREATE TABLE tickets (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    booking_id       uuid NOT NULL REFERENCES bookings (id),
    event_id         uuid NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    event_seat_id    uuid NOT NULL REFERENCES event_seats (id),
    holder_id        uuid NOT NULL REFERENCES users (id),
    status           text NOT NULL DEFAULT 'VALID' CHECK (status IN ('VALID', 'CHECKED_IN', 'VOID')),
    checked_in_at    timestamptz,
    checked_in_by    uuid REFERENCES users (id),
    check_in_scan_id text CHECK (length(check_in_scan_id) BETWEEN 1 AND 100),
    voided_at        timestamptz,
    void_reason      text CHECK (void_reason IN ('CANCELLED', 'TRANSFERRED')),
    -- The ticket this one replaced when it was transferred to its holder.
    transferred_from uuid REFERENCES tickets (id),
    created_at       timestamptz NOT NULL DEFAULT now(),
    CHECK (status <> 'CHECKED_IN' OR checked_in_at IS NOT NULL),
    CHECK ((status = 'VOID') = (voided_at IS NOT NULL)),
    CHECK ((status = 'VOID') = (void_reason IS NOT NULL))
);
-- A seat has at most one ticket that can still get someone in.
CREATE UNIQUE INDEX tickets_live_seat_key ON tickets (event_seat_id) WHERE status <> 'VOID';
CREATE INDEX tickets_booking_idx ON tickets (booking_id);
CREATE INDEX tickets_holder_idx ON tickets (holder_id, event_id);
CREATE INDEX tickets_event_status_idx ON tickets (event_id, status);
-- The revocation feed of offline scanners: void tickets of an event by the time they became void.
CREATE INDEX tickets_revoked_idx ON tickets (event_id, voided_at) WHERE status = 'VOID';
