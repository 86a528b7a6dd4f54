-- An event cancellation records ONE outbox row (EventCancelled) instead of one BookingCancelled row per booking
-- in its transaction (docs/refunds.md, "Domain events of an event cancellation"): right after commit the outbox
-- publisher expands it into the per-booking BookingCancelled rows, reading the bookings cancelled with the
-- event (a CANCELLED booking never changes again). expand_bookings is true until that expansion is written;
-- rows recorded before this migration had their booking events written with them and keep false.
ALTER TABLE outbox_events ADD COLUMN expand_bookings boolean NOT NULL DEFAULT false;
CREATE INDEX outbox_events_to_expand_idx ON outbox_events (created_at) WHERE expand_bookings;
