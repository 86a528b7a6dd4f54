-- Payments as provider payment intents, settled outside any transaction (docs/payments.md).
--
-- A payment row is now recorded *before* the provider is called: REQUIRES_PAYMENT_METHOD when an intent is
-- created for the booking, PROCESSING while a confirmation is with the provider, REQUIRES_ACTION while the
-- customer authenticates (3-D Secure). The finalising transaction moves it to SUCCEEDED together with the
-- booking; a decline ends it as FAILED. Every open row carries `check_after`, when the reconciliation asks
-- the provider about it if nothing else has settled it.

ALTER TABLE payments DROP CONSTRAINT payments_status_check;
ALTER TABLE payments ADD CONSTRAINT payments_status_check CHECK (status IN (
    'REQUIRES_PAYMENT_METHOD', 'REQUIRES_ACTION', 'PROCESSING',
    'SUCCEEDED', 'FAILED', 'REFUND_PENDING', 'REFUNDED', 'REFUND_FAILED'));

ALTER TABLE payments
    -- The booking version the intent was created for: the finalising UPDATE's guard.
    ADD COLUMN booking_version  integer,
    ADD COLUMN client_secret    text CHECK (length(client_secret) <= 500),
    ADD COLUMN updated_at       timestamptz NOT NULL DEFAULT now(),
    -- When the reconciliation looks at an open payment next; NULL once the payment is settled.
    ADD COLUMN check_after      timestamptz,
    -- Confirmations sent to the provider for this intent: each one's idempotency key carries its number.
    ADD COLUMN confirm_attempts integer NOT NULL DEFAULT 0 CHECK (confirm_attempts >= 0),
    -- A charge that went through after its booking had ended (expired, cancelled, or paid by another
    -- attempt): refunded at once, so it does not count as the booking's payment.
    ADD COLUMN late_refund      boolean NOT NULL DEFAULT false;

ALTER TABLE payments ADD CONSTRAINT payments_open_are_checked CHECK (
    (status IN ('REQUIRES_PAYMENT_METHOD', 'REQUIRES_ACTION', 'PROCESSING')) = (check_after IS NOT NULL));

-- At most one attempt in progress per booking: a second can only start once the first has ended, so two
-- intents of one booking can never both be in the customer's hands (and charged) at once.
CREATE UNIQUE INDEX payments_one_open_attempt_key ON payments (booking_id)
    WHERE status IN ('REQUIRES_PAYMENT_METHOD', 'REQUIRES_ACTION', 'PROCESSING');

-- At most one charge that counts per booking; late charges are refunded and do not count.
DROP INDEX payments_one_success_key;
CREATE UNIQUE INDEX payments_one_success_key ON payments (booking_id)
    WHERE status IN ('SUCCEEDED', 'REFUND_PENDING', 'REFUNDED', 'REFUND_FAILED') AND NOT late_refund;

-- The reconciliation's scan: open payments, the longest unsettled first.
CREATE INDEX payments_check_due_idx ON payments (check_after)
    WHERE status IN ('REQUIRES_PAYMENT_METHOD', 'REQUIRES_ACTION', 'PROCESSING');

-- A provider's webhook names its intent: the payment is found by it.
CREATE INDEX payments_reference_idx ON payments (reference) WHERE reference IS NOT NULL;

-- Webhook deliveries already handled, by the provider's event id: a redelivery changes nothing more.
CREATE TABLE payment_webhook_events (
    provider    text NOT NULL,
    event_id    text NOT NULL CHECK (length(event_id) <= 255),
    event_type  text NOT NULL CHECK (length(event_type) <= 255),
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (provider, event_id)
);

-- The test payment provider's own books for its intents (what a real provider keeps on its side), so that
-- every process (API, webhook, reconciliation) sees the same intent, and an intent created twice with one
-- idempotency key is the same intent.
CREATE TABLE test_provider_intents (
    id               text PRIMARY KEY,
    idempotency_key  text NOT NULL UNIQUE,
    amount           bigint NOT NULL CHECK (amount >= 0),
    currency         text NOT NULL,
    status           text NOT NULL CHECK (status IN (
        'requires_payment_method', 'requires_action', 'processing', 'succeeded', 'canceled')),
    payment_method   text,
    failure_code     text,
    client_secret    text NOT NULL,
    metadata         jsonb NOT NULL DEFAULT '{}',
    confirmations    text[] NOT NULL DEFAULT '{}',
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
