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
-- No foreign key on event_id on purpose: its check would take a key-share lock on the event row inside every
-- hold that adds a slot, and a hold waiting for a cancelling transaction that waits for the hold's seats is a
-- deadlock. Deleting an event deletes its slots (events_delete_their_seats below).
CREATE TABLE event_seat_changes (
    event_id uuid NOT NULL,
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

-- Creating an event copies up to 250,000 seats per statement. The per-row foreign key checks of its three
-- inventory references (event, section, venue seat) cost about as much as the rows themselves; one set-based
-- check per statement replaces them (and is stricter: the venue seat must belong to the seat's section).
-- Events, sections and venue seats are never deleted by the application; the triggers below keep the old
-- ON DELETE behaviour anyway (an event's seats go with it; a venue seat an event sells cannot go).
ALTER TABLE event_seats
    DROP CONSTRAINT event_seats_event_id_fkey,
    DROP CONSTRAINT event_seats_section_id_fkey,
    DROP CONSTRAINT event_seats_venue_seat_id_fkey;

CREATE FUNCTION check_event_seat_references() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    orphan record;
BEGIN
    SELECT n.id, n.event_id, n.venue_seat_id, n.section_id INTO orphan FROM new_event_seats n
    WHERE NOT EXISTS (SELECT 1 FROM venue_seats vs WHERE vs.id = n.venue_seat_id AND vs.section_id = n.section_id)
       OR NOT EXISTS (SELECT 1 FROM events e WHERE e.id = n.event_id)
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'event seat % names no event % or no venue seat % in section %',
            orphan.id, orphan.event_id, orphan.venue_seat_id, orphan.section_id
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'event_seats_inventory_references';
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER event_seats_inventory_references AFTER INSERT ON event_seats
    REFERENCING NEW TABLE AS new_event_seats FOR EACH STATEMENT EXECUTE FUNCTION check_event_seat_references();

CREATE FUNCTION refuse_moving_event_seats() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'an event seat never moves to another event, section or venue seat'
        USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'event_seats_inventory_references';
END;
$$;
CREATE TRIGGER event_seats_never_move BEFORE UPDATE OF event_id, section_id, venue_seat_id ON event_seats
    FOR EACH ROW WHEN (OLD.event_id IS DISTINCT FROM NEW.event_id OR OLD.section_id IS DISTINCT FROM NEW.section_id
                       OR OLD.venue_seat_id IS DISTINCT FROM NEW.venue_seat_id)
    EXECUTE FUNCTION refuse_moving_event_seats();

CREATE FUNCTION delete_seats_of_deleted_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM event_seats WHERE event_id IN (SELECT id FROM deleted_events);
    DELETE FROM event_seat_changes WHERE event_id IN (SELECT id FROM deleted_events);
    RETURN NULL;
END;
$$;
CREATE TRIGGER events_delete_their_seats AFTER DELETE ON events
    REFERENCING OLD TABLE AS deleted_events FOR EACH STATEMENT EXECUTE FUNCTION delete_seats_of_deleted_events();

CREATE FUNCTION refuse_deleting_sold_venue_seats() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM event_seats es JOIN deleted_venue_seats d ON d.id = es.venue_seat_id) THEN
        RAISE EXCEPTION 'a venue seat that an event sells cannot be deleted'
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'event_seats_inventory_references';
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER venue_seats_keep_sold_seats AFTER DELETE ON venue_seats
    REFERENCING OLD TABLE AS deleted_venue_seats FOR EACH STATEMENT EXECUTE FUNCTION refuse_deleting_sold_venue_seats();
