-- The copy of a booking's status into its items and seats is not checked again (docs/decisions.md, "Fewer
-- index writes per seat, notification and ticket code"). copy_booking_status (migration 0006) writes into
-- them the status it reads from the bookings the statement just changed, which that statement holds locked:
-- checking those rows could only find them right, and at an event cancellation it re-read and locked
-- FOR SHARE all 50,000 bookings. The update checks now fire for statements the application runs
-- (pg_trigger_depth() = 0 when they are queued), not for the copy's own (depth 1; no other trigger writes
-- items or seats). Inserts are checked as before.

DROP TRIGGER booking_items_status_copy_updated ON booking_items;
CREATE TRIGGER booking_items_status_copy_updated
    AFTER UPDATE ON booking_items REFERENCING NEW TABLE AS written_rows
    FOR EACH STATEMENT WHEN (pg_trigger_depth() = 0)
    EXECUTE FUNCTION check_booking_status_copy('booking_items_booking_id_booking_status_fkey');

DROP TRIGGER event_seats_status_copy_updated ON event_seats;
CREATE TRIGGER event_seats_status_copy_updated
    AFTER UPDATE ON event_seats REFERENCING NEW TABLE AS written_rows
    FOR EACH STATEMENT WHEN (pg_trigger_depth() = 0)
    EXECUTE FUNCTION check_booking_status_copy('event_seats_booking_id_booking_status_fkey');
