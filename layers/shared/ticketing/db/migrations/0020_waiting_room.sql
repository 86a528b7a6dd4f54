-- An event's waiting room settings (docs/waiting-room.md). Only the settings live here: the queue itself, its
-- places and its admissions are in DynamoDB, so joining and polling never write to this database.
-- admitPerMinute NULL follows the deployment's default ceiling (WAITING_ROOM_DEFAULT_ADMIT_PER_MINUTE);
-- opensAt NULL is 30 minutes before the sale starts. Adding columns with constant defaults rewrites nothing.

ALTER TABLE events
    ADD COLUMN waiting_room_enabled boolean NOT NULL DEFAULT false,
    ADD COLUMN waiting_room_opens_at timestamptz,
    ADD COLUMN waiting_room_admit_per_minute integer
        CHECK (waiting_room_admit_per_minute IS NULL OR waiting_room_admit_per_minute BETWEEN 1 AND 1000000),
    ADD COLUMN waiting_room_session_minutes integer NOT NULL DEFAULT 10
        CHECK (waiting_room_session_minutes BETWEEN 1 AND 30);

-- The controller looks for the rooms it runs on every tick.
CREATE INDEX events_with_waiting_room ON events (id) WHERE waiting_room_enabled;
