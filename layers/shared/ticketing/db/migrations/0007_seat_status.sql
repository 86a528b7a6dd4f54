-- Live seat status for maps of any size (docs/seat-maps.md): one character per seat in a fixed order, and a
-- per-event change counter so an unchanged map is recognised without reading its seats.

-- Each event seat's place in its section's status string: row by row, then by number (both from 1).
ALTER TABLE event_seats ADD COLUMN seat_index integer CHECK (seat_index >= 0);
UPDATE event_seats es SET seat_index = (vs.row_index - 1) * s.seats_per_row + vs.number - 1
FROM venue_seats vs JOIN sections s ON s.id = vs.section_id
WHERE vs.id = es.venue_seat_id;
ALTER TABLE event_seats ALTER COLUMN seat_index SET NOT NULL;

-- Event creation writes seat_index itself (set-based); any other insert gets it from its venue seat here.
CREATE FUNCTION fill_event_seat_index() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT (vs.row_index - 1) * s.seats_per_row + vs.number - 1 INTO NEW.seat_index
    FROM venue_seats vs JOIN sections s ON s.id = vs.section_id
    WHERE vs.id = NEW.venue_seat_id;
    RETURN NEW;
END;
$$;
CREATE TRIGGER event_seats_fill_seat_index BEFORE INSERT ON event_seats
    FOR EACH ROW WHEN (NEW.seat_index IS NULL) EXECUTE FUNCTION fill_event_seat_index();

-- The latest hold of an event that has run out, in one index probe: with the change counter it tells whether
-- a hold expired since a client's copy (an expired hold reads AVAILABLE before the expiry job frees it).
CREATE INDEX event_seats_event_held_until_idx ON event_seats (event_id, held_until) WHERE status = 'HELD';

-- How many committed statements changed an event's seats: the sum over the event's slots. Each changing
-- statement adds 1 to a slot no other transaction is using (SKIP LOCKED), or to a new slot when all are
-- busy, so concurrent holds never wait for one another here and never deadlock on a counter.
CREATE TABLE event_seat_changes (
    event_id uuid NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    slot     bigint NOT NULL,
    changes  bigint NOT NULL CHECK (changes >= 1),
    PRIMARY KEY (event_id, slot)
);
CREATE SEQUENCE event_seat_changes_slot_seq;

CREATE FUNCTION count_event_seat_changes() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    changed_event uuid;
    free_slot bigint;
BEGIN
    FOR changed_event IN SELECT DISTINCT event_id FROM changed_seats LOOP
        SELECT slot INTO free_slot FROM event_seat_changes
        WHERE event_id = changed_event LIMIT 1 FOR UPDATE SKIP LOCKED;
        IF FOUND THEN
            UPDATE event_seat_changes SET changes = changes + 1
            WHERE event_id = changed_event AND slot = free_slot;
        ELSE
            INSERT INTO event_seat_changes (event_id, slot, changes)
            VALUES (changed_event, nextval('event_seat_changes_slot_seq'), 1);
        END IF;
    END LOOP;
    RETURN NULL;
END;
$$;
-- Statement-level with a transition table: one counter update per statement and event, whatever the number
-- of seats (a 1,000-seat expiry batch costs the same as a one-seat hold). Inserts and deletes of seats come
-- with a new or removed section price, which the map's version covers already.
CREATE TRIGGER event_seats_count_changes AFTER UPDATE ON event_seats
    REFERENCING NEW TABLE AS changed_seats FOR EACH STATEMENT EXECUTE FUNCTION count_event_seat_changes();
