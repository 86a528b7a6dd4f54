-- Fewer and cheaper index writes per event seat (docs/seat-maps.md, "Writing seats"). An event's whole
-- inventory is written at its creation (up to 250,000 seats per statement) and every hold, booking and
-- cancellation rewrites seats: each index is one more write per seat on all of those paths, and an index
-- whose keys arrive in random order touches a random page per seat.

-- 1. One event seat per venue seat, said through the seat's place in its section instead of the venue seat's
--    id: seat_index is (row - 1) * seats per row + number - 1 of exactly that venue seat (checked per statement
--    below; a section's geometry never changes), so UNIQUE (event_id, section_id, seat_index) is the same rule.
--    An event is created in seat order, so its keys arrive in index order; the venue seat ids, random, made the
--    old UNIQUE (event_id, venue_seat_id) index the slowest part of creating a stadium event. The new unique
--    index also replaces the (event_id, section_id, seat_index) index of the status map (0008).
CREATE UNIQUE INDEX event_seats_section_seat_key ON event_seats (event_id, section_id, seat_index);
DROP INDEX event_seats_section_seat_idx;
ALTER TABLE event_seats DROP CONSTRAINT event_seats_event_id_venue_seat_id_key;

-- 2. No query reads seats by (event_id, status) any more: counts and maps walk an event's sections through the
--    index above, holds and expiry use the partial HELD indexes.
DROP INDEX event_seats_event_status_idx;

-- 3. Seat ids in time order (the UUID version 7 layout: 48 bits of Unix milliseconds, then random bits), so a
--    new event's seats go to the right-hand end of the primary key index instead of a random page each.
--    PostgreSQL 18 has uuidv7(); this spelling runs on 15 too.
CREATE FUNCTION time_ordered_uuid() RETURNS uuid LANGUAGE sql VOLATILE PARALLEL SAFE AS $$
    SELECT encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid())
        PLACING substring(int8send(floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3)
        FROM 1 FOR 6), 52, 1), 53, 1), 'hex')::uuid
$$;
ALTER TABLE event_seats ALTER COLUMN id SET DEFAULT time_ordered_uuid();

-- The per-statement reference check now also holds each seat to its venue seat's place in the section.
CREATE OR REPLACE FUNCTION check_event_seat_references() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    orphan record;
BEGIN
    SELECT n.id, n.event_id, n.venue_seat_id, n.section_id, n.seat_index INTO orphan FROM new_event_seats n
    WHERE NOT EXISTS (SELECT 1 FROM venue_seats vs JOIN sections s ON s.id = vs.section_id
                      WHERE vs.id = n.venue_seat_id AND vs.section_id = n.section_id
                        AND (vs.row_index - 1) * s.seats_per_row + vs.number - 1 = n.seat_index)
       OR NOT EXISTS (SELECT 1 FROM events e WHERE e.id = n.event_id)
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'event seat % names no event % or no venue seat % at place % of section %',
            orphan.id, orphan.event_id, orphan.venue_seat_id, orphan.seat_index, orphan.section_id
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'event_seats_inventory_references';
    END IF;
    RETURN NULL;
END;
$$;

-- ... and a seat's place never changes, like its event, section and venue seat.
DROP TRIGGER event_seats_never_move ON event_seats;
CREATE TRIGGER event_seats_never_move BEFORE UPDATE OF event_id, section_id, venue_seat_id, seat_index ON event_seats
    FOR EACH ROW WHEN (OLD.event_id IS DISTINCT FROM NEW.event_id OR OLD.section_id IS DISTINCT FROM NEW.section_id
                       OR OLD.venue_seat_id IS DISTINCT FROM NEW.venue_seat_id
                       OR OLD.seat_index IS DISTINCT FROM NEW.seat_index)
    EXECUTE FUNCTION refuse_moving_event_seats();
