-- Exactly-once delivery (docs/security.md, "Exactly-once delivery").
--
-- The outbox publisher no longer calls EventBridge inside its transaction: it claims rows with a lease
-- (`claimed_until`) and commits, sends, then marks them published in a second transaction. A publisher that
-- dies between sending and marking leaves the lease to expire and the rows are sent again: consumers
-- deduplicate on the row's id, which every event carries as `detail.domainEventId`.
ALTER TABLE outbox_events ADD COLUMN claimed_until timestamptz;

-- One row per domain event whose customer e-mail the notification function has taken on, keyed by the event's
-- `domainEventId` (or EventBridge's own id for an event without one): claimed (`sent_at` NULL, leased until
-- `claimed_until`) before SES is called, marked sent after. A redelivered or retried event finds its row and
-- sends nothing.
CREATE TABLE email_deliveries (
    delivery_key    text PRIMARY KEY CHECK (length(delivery_key) <= 200),
    event_type      text NOT NULL,
    claimed_until   timestamptz NOT NULL,
    sent_at         timestamptz,
    message_id      text CHECK (length(message_id) <= 200),
    created_at      timestamptz NOT NULL DEFAULT now()
);
