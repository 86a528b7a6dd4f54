-- Catalog: row labels computed in SQL, so a section's seats are generated in one set-based INSERT.

-- Bijective base 26, like spreadsheet columns: 1 -> A, 26 -> Z, 27 -> AA, 28 -> AB, 702 -> ZZ.
CREATE FUNCTION seat_row_label(row_index integer) RETURNS text
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    remaining integer := row_index;
    label text := '';
BEGIN
    IF remaining < 1 THEN
        RAISE EXCEPTION 'row index must be at least 1, got %', row_index USING ERRCODE = 'invalid_parameter_value';
    END IF;
    WHILE remaining > 0 LOOP
        remaining := remaining - 1;
        label := chr(65 + remaining % 26) || label;
        remaining := remaining / 26;
    END LOOP;
    RETURN label;
END;
$$;

-- Venue lists filter by city (venues_city_idx) and sort by name.
CREATE INDEX venues_name_idx ON venues (lower(name), id);
-- Event lists sort by start across statuses (an admin's view) and by organizer (an organizer's drafts).
CREATE INDEX events_starts_idx ON events (starts_at, id);
