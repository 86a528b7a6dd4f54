-- The booking status copied into booking_items and event_seats (what the partial unique index and the seat
-- checks of 0001 read) is kept equal to bookings.status per statement instead of per row (docs/decisions.md,
-- "Cancellations and refunds"). The composite foreign keys did it with ON UPDATE CASCADE: one cascade
-- UPDATE per booking, one foreign-key check per item, one probe of event_seats per booking, all inside
-- PostgreSQL, which was most of an event cancellation's time at 50,000 bookings. The same rules now hold
-- through statement-level triggers over transition tables, one set-based statement each:
--   * a change of bookings.status is copied into its items and seats at the end of the statement, as the
--     cascade did (so a seat still attached to a booking that ends fails the seat checks, as before);
--   * an item or seat written with a booking_status other than its booking's current status is refused
--     (23503, under the old foreign key's name), the booking row locked FOR SHARE, so a concurrent status
--     change waits for the writer and then copies onto its rows, or the writer waits for the change and
--     then sees the new status.
-- booking_id itself keeps a plain foreign key. UNIQUE (id, status) on bookings only served as the target of
-- the composite keys: dropped, one index fewer to write on every status change.

ALTER TABLE booking_items DROP CONSTRAINT booking_items_booking_id_booking_status_fkey;
ALTER TABLE event_seats DROP CONSTRAINT event_seats_booking_id_booking_status_fkey;
ALTER TABLE booking_items ADD CONSTRAINT booking_items_booking_id_fkey
    FOREIGN KEY (booking_id) REFERENCES bookings (id) ON DELETE CASCADE;
ALTER TABLE event_seats ADD CONSTRAINT event_seats_booking_id_fkey
    FOREIGN KEY (booking_id) REFERENCES bookings (id);
ALTER TABLE bookings DROP CONSTRAINT bookings_id_status_key;

-- Rows whose copy differs from their booking's new status are the ones whose status changed: one join each.
-- Each statement sees rows committed meanwhile only at READ COMMITTED (the level every transaction of the
-- application runs at): under a snapshot level, items a concurrent transaction just added could be missed,
-- so a status change is refused there rather than leave a stale copy (the cascade had its own cross-check).
CREATE FUNCTION copy_booking_status() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('transaction_isolation') <> 'read committed'
       AND EXISTS (SELECT 1 FROM new_bookings n JOIN old_bookings o ON o.id = n.id WHERE n.status <> o.status) THEN
        RAISE EXCEPTION 'a booking''s status changes at READ COMMITTED only, where its copies can be kept in step'
            USING ERRCODE = 'feature_not_supported';
    END IF;
    UPDATE booking_items bi SET booking_status = n.status
      FROM new_bookings n WHERE bi.booking_id = n.id AND bi.booking_status <> n.status;
    UPDATE event_seats es SET booking_status = n.status
      FROM new_bookings n WHERE es.booking_id = n.id AND es.booking_status <> n.status;
    RETURN NULL;
END;
$$;
CREATE TRIGGER bookings_copy_status
    AFTER UPDATE ON bookings REFERENCING OLD TABLE AS old_bookings NEW TABLE AS new_bookings
    FOR EACH STATEMENT EXECUTE FUNCTION copy_booking_status();

-- TG_ARGV[0]: the constraint name reported when a written row's copy differs from its booking.
CREATE FUNCTION check_booking_status_copy() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    written bigint;
    matching bigint;
BEGIN
    SELECT count(*) INTO written FROM written_rows WHERE booking_id IS NOT NULL;
    IF written = 0 THEN
        RETURN NULL;
    END IF;
    SELECT count(*) INTO matching FROM (
        SELECT 1 FROM written_rows w JOIN bookings b ON b.id = w.booking_id AND b.status = w.booking_status
           FOR SHARE OF b) AS locked;
    IF matching <> written THEN
        RAISE EXCEPTION '% of % rows of % carry a booking status that is not their booking''s',
            written - matching, written, TG_TABLE_NAME
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = TG_ARGV[0];
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER booking_items_status_copy_inserted
    AFTER INSERT ON booking_items REFERENCING NEW TABLE AS written_rows
    FOR EACH STATEMENT EXECUTE FUNCTION check_booking_status_copy('booking_items_booking_id_booking_status_fkey');
CREATE TRIGGER booking_items_status_copy_updated
    AFTER UPDATE ON booking_items REFERENCING NEW TABLE AS written_rows
    FOR EACH STATEMENT EXECUTE FUNCTION check_booking_status_copy('booking_items_booking_id_booking_status_fkey');
CREATE TRIGGER event_seats_status_copy_inserted
    AFTER INSERT ON event_seats REFERENCING NEW TABLE AS written_rows
    FOR EACH STATEMENT EXECUTE FUNCTION check_booking_status_copy('event_seats_booking_id_booking_status_fkey');
CREATE TRIGGER event_seats_status_copy_updated
    AFTER UPDATE ON event_seats REFERENCING NEW TABLE AS written_rows
    FOR EACH STATEMENT EXECUTE FUNCTION check_booking_status_copy('event_seats_booking_id_booking_status_fkey');
