-- Cancelling a sold-out event writes one notification per buyer and, for each booking, outbox rows: tens of
-- thousands of rows in one statement (docs/refunds.md). Their ids are time-ordered (time_ordered_uuid, 0009),
-- so those rows are appended to the right-hand end of the primary key index instead of a random page each.
ALTER TABLE notifications ALTER COLUMN id SET DEFAULT time_ordered_uuid();
ALTER TABLE outbox_events ALTER COLUMN id SET DEFAULT time_ordered_uuid();

-- A user's unread notifications are read through (user_id, created_at DESC), filtering read_at on the way: a
-- user has a few notifications, not millions. A second, partial index of the same keys cost one more write per
-- notification, 50,000 of them when a stadium event is cancelled.
DROP INDEX notifications_unread_idx;
