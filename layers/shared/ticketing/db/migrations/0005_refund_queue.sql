-- Refunds as a queue (docs/refunds.md). A refund is the payment row itself moving
-- SUCCEEDED -> REFUND_PENDING -> REFUNDED | REFUND_FAILED; the queue bookkeeping lives next to it, so
-- queuing a refund is one UPDATE over a set of payments inside the cancelling transaction.

ALTER TABLE payments
    ADD COLUMN refund_requested_at timestamptz,
    -- When a worker may (next) take the refund: a failure pushes it back (backoff), a claim pushes it
    -- past the claim's lease, so a worker that dies mid-call only delays the refund. NULL unless pending.
    ADD COLUMN refund_due_at       timestamptz,
    ADD COLUMN refund_attempts     integer NOT NULL DEFAULT 0 CHECK (refund_attempts >= 0),
    ADD COLUMN refund_reference    text,
    ADD COLUMN refund_last_error   text CHECK (length(refund_last_error) <= 1000);
-- Refunds made before the queue were sent at once: requested when refunded.
UPDATE payments SET refund_requested_at = refunded_at WHERE status = 'REFUNDED';

ALTER TABLE payments DROP CONSTRAINT payments_status_check;
ALTER TABLE payments ADD CONSTRAINT payments_status_check
    CHECK (status IN ('SUCCEEDED', 'FAILED', 'REFUND_PENDING', 'REFUNDED', 'REFUND_FAILED'));
ALTER TABLE payments ADD CONSTRAINT payments_refund_due_only_when_pending
    CHECK ((status = 'REFUND_PENDING') = (refund_due_at IS NOT NULL));
ALTER TABLE payments ADD CONSTRAINT payments_refund_requested
    CHECK (status NOT IN ('REFUND_PENDING', 'REFUNDED', 'REFUND_FAILED') OR refund_requested_at IS NOT NULL);

-- Still at most one charge that went through per booking, whatever became of its refund.
DROP INDEX payments_one_success_key;
CREATE UNIQUE INDEX payments_one_success_key ON payments (booking_id)
    WHERE status IN ('SUCCEEDED', 'REFUND_PENDING', 'REFUNDED', 'REFUND_FAILED');
-- The workers' scan: due refunds, oldest due first.
CREATE INDEX payments_refund_due_idx ON payments (refund_due_at) WHERE status = 'REFUND_PENDING';
-- Ops' view of refunds that gave up.
CREATE INDEX payments_refund_failed_idx ON payments (refund_requested_at) WHERE status = 'REFUND_FAILED';

-- How many bookings the event's cancellation cancelled (the organizer's progress view).
ALTER TABLE events ADD COLUMN cancelled_bookings integer CHECK (cancelled_bookings >= 0);

-- The test payment provider's own records (what a real provider keeps on its side): one row per
-- refund idempotency key, so a retried refund answers the first refund instead of sending a second,
-- across every process, and `tok_refundFailsOnce` can fail exactly the first attempt.
CREATE TABLE test_provider_refunds (
    idempotency_key  text PRIMARY KEY,
    charge_reference text NOT NULL,
    amount           bigint NOT NULL CHECK (amount >= 0),
    attempts         integer NOT NULL CHECK (attempts >= 1),
    reference        text,
    refunded_at      timestamptz,
    CHECK ((reference IS NULL) = (refunded_at IS NULL))
);

-- The subtotal check depends on an item's booking and price only. It used to run for every item whose
-- booking_status the foreign key cascades when a booking changes state: one trigger call per seat at the
-- commit of an event cancellation. Now only a change that can break the sum runs it.
DROP TRIGGER booking_items_subtotal_matches_items ON booking_items;
CREATE CONSTRAINT TRIGGER booking_items_subtotal_matches_items
    AFTER INSERT OR UPDATE OF booking_id, price OR DELETE ON booking_items
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION check_booking_subtotal();
