-- The whole data model (docs/booking-lifecycle.md). Invariants live here as constraints, not only in code.
-- Compatible with PostgreSQL 15 (Aurora 15/16/17): gen_random_uuid() is core since 13; no extensions.

CREATE TABLE users (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email         text NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
    password_hash text NOT NULL,
    name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    phone         text CHECK (length(phone) <= 40),
    role          text NOT NULL DEFAULT 'USER' CHECK (role IN ('USER', 'ORGANIZER', 'ADMIN')),
    password_changed_at timestamptz NOT NULL DEFAULT now(),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
-- Emails compare case-insensitively.
CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email));

-- Refresh tokens are stored only as SHA-256 hashes; a family is one login's chain of rotations.
CREATE TABLE refresh_tokens (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    family_id   uuid NOT NULL,
    token_hash  bytea NOT NULL UNIQUE,
    expires_at  timestamptz NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    used_at     timestamptz,
    revoked_at  timestamptz
);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user_live_idx ON refresh_tokens (user_id) WHERE revoked_at IS NULL;

CREATE TABLE venues (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    address    text NOT NULL CHECK (length(address) BETWEEN 1 AND 500),
    city       text NOT NULL CHECK (length(city) BETWEEN 1 AND 120),
    country    text NOT NULL CHECK (country ~ '^[A-Z]{2}$'),
    timezone   text NOT NULL CHECK (length(timezone) BETWEEN 1 AND 64),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX venues_city_idx ON venues (lower(city));

CREATE TABLE sections (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    venue_id      uuid NOT NULL REFERENCES venues (id) ON DELETE CASCADE,
    name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    rows          integer NOT NULL CHECK (rows BETWEEN 1 AND 500),
    seats_per_row integer NOT NULL CHECK (seats_per_row BETWEEN 1 AND 500),
    default_price bigint CHECK (default_price >= 0),
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX sections_venue_name_key ON sections (venue_id, lower(name));

CREATE TABLE venue_seats (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    section_id uuid NOT NULL REFERENCES sections (id) ON DELETE CASCADE,
    row_index  integer NOT NULL CHECK (row_index >= 1),
    row_label  text NOT NULL,
    number     integer NOT NULL CHECK (number >= 1),
    UNIQUE (section_id, row_index, number)
);

CREATE TABLE events (
    id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    venue_id             uuid NOT NULL REFERENCES venues (id),
    organizer_id         uuid NOT NULL REFERENCES users (id),
    title                text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    description          text,
    category             text NOT NULL CHECK (length(category) BETWEEN 1 AND 50),
    status               text NOT NULL DEFAULT 'DRAFT'
                         CHECK (status IN ('DRAFT', 'PUBLISHED', 'CANCELLED', 'COMPLETED')),
    starts_at            timestamptz NOT NULL,
    ends_at              timestamptz NOT NULL,
    sales_start_at       timestamptz,
    sales_end_at         timestamptz,
    currency             text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    max_tickets_per_user integer NOT NULL DEFAULT 10 CHECK (max_tickets_per_user BETWEEN 1 AND 100),
    version              integer NOT NULL DEFAULT 1 CHECK (version >= 1),
    published_at         timestamptz,
    cancelled_at         timestamptz,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    CHECK (ends_at > starts_at),
    CHECK (sales_end_at IS NULL OR sales_start_at IS NULL OR sales_end_at > sales_start_at)
);
CREATE INDEX events_status_starts_idx ON events (status, starts_at);
CREATE INDEX events_venue_idx ON events (venue_id);
CREATE INDEX events_organizer_idx ON events (organizer_id);

CREATE TABLE event_sections (
    event_id   uuid NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    section_id uuid NOT NULL REFERENCES sections (id),
    price      bigint NOT NULL CHECK (price >= 0),
    PRIMARY KEY (event_id, section_id)
);

CREATE TABLE coupons (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    code            text NOT NULL CHECK (code ~ '^[A-Z0-9_-]{3,40}$'),
    type            text NOT NULL CHECK (type IN ('PERCENT', 'FIXED')),
    value           bigint NOT NULL,
    currency        text CHECK (currency ~ '^[A-Z]{3}$'),
    event_id        uuid REFERENCES events (id) ON DELETE CASCADE,
    max_redemptions integer CHECK (max_redemptions >= 1),
    per_user_limit  integer CHECK (per_user_limit >= 1),
    redeemed_count  integer NOT NULL DEFAULT 0 CHECK (redeemed_count >= 0),
    valid_from      timestamptz,
    valid_until     timestamptz,
    min_subtotal    bigint NOT NULL DEFAULT 0 CHECK (min_subtotal >= 0),
    created_by      uuid NOT NULL REFERENCES users (id),
    created_at      timestamptz NOT NULL DEFAULT now(),
    CHECK ((type = 'PERCENT' AND value BETWEEN 1 AND 100) OR (type = 'FIXED' AND value >= 1)),
    -- The redemption limit holds in the database, whatever the code does.
    CHECK (max_redemptions IS NULL OR redeemed_count <= max_redemptions),
    CHECK (valid_until IS NULL OR valid_from IS NULL OR valid_until > valid_from)
);
CREATE UNIQUE INDEX coupons_code_key ON coupons (code);

CREATE TABLE bookings (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id       uuid NOT NULL REFERENCES users (id),
    event_id      uuid NOT NULL REFERENCES events (id),
    status        text NOT NULL DEFAULT 'PENDING'
                  CHECK (status IN ('PENDING', 'CONFIRMED', 'CANCELLED', 'EXPIRED')),
    subtotal      bigint NOT NULL CHECK (subtotal >= 0),
    discount      bigint NOT NULL DEFAULT 0 CHECK (discount >= 0),
    total         bigint NOT NULL CHECK (total >= 0),
    currency      text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    coupon_id     uuid REFERENCES coupons (id),
    coupon_code   text,
    expires_at    timestamptz NOT NULL,
    version       integer NOT NULL DEFAULT 1 CHECK (version >= 1),
    cancel_reason text CHECK (length(cancel_reason) <= 500),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    confirmed_at  timestamptz,
    cancelled_at  timestamptz,
    expired_at    timestamptz,
    CHECK (total = subtotal - discount),
    CHECK ((status = 'CONFIRMED') = (confirmed_at IS NOT NULL) OR status = 'CANCELLED'),
    -- Target of the status-carrying foreign keys below.
    UNIQUE (id, status)
);
CREATE INDEX bookings_user_idx ON bookings (user_id, created_at DESC);
CREATE INDEX bookings_event_status_idx ON bookings (event_id, status);
CREATE INDEX bookings_pending_expiry_idx ON bookings (expires_at) WHERE status = 'PENDING';

-- booking_status mirrors the booking's status through ON UPDATE CASCADE, so a partial unique index
-- can say "a seat belongs to at most one PENDING or CONFIRMED booking" in the database itself.
CREATE TABLE booking_items (
    booking_id     uuid NOT NULL,
    booking_status text NOT NULL,
    event_seat_id  uuid NOT NULL,
    price          bigint NOT NULL CHECK (price >= 0),
    PRIMARY KEY (booking_id, event_seat_id),
    FOREIGN KEY (booking_id, booking_status) REFERENCES bookings (id, status)
        ON UPDATE CASCADE ON DELETE CASCADE
);
CREATE UNIQUE INDEX booking_items_live_seat_key ON booking_items (event_seat_id)
    WHERE booking_status IN ('PENDING', 'CONFIRMED');

CREATE TABLE event_seats (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    event_id        uuid NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    section_id      uuid NOT NULL REFERENCES sections (id),
    venue_seat_id   uuid NOT NULL REFERENCES venue_seats (id),
    status          text NOT NULL DEFAULT 'AVAILABLE' CHECK (status IN ('AVAILABLE', 'HELD', 'BOOKED')),
    held_by         uuid REFERENCES users (id),
    held_until      timestamptz,
    hold_extensions integer NOT NULL DEFAULT 0 CHECK (hold_extensions >= 0),
    booking_id      uuid,
    booking_status  text,
    UNIQUE (event_id, venue_seat_id),
    FOREIGN KEY (booking_id, booking_status) REFERENCES bookings (id, status) ON UPDATE CASCADE,
    CHECK ((booking_id IS NULL) = (booking_status IS NULL)),
    CHECK (status <> 'AVAILABLE' OR (held_by IS NULL AND held_until IS NULL AND booking_id IS NULL)),
    -- A HELD seat has a holder and an expiry.
    CHECK (status <> 'HELD' OR (held_by IS NOT NULL AND held_until IS NOT NULL)),
    -- A BOOKED seat belongs to exactly one CONFIRMED booking.
    CHECK (status <> 'BOOKED' OR booking_status = 'CONFIRMED'),
    CHECK (booking_status IS NULL OR booking_status IN ('PENDING', 'CONFIRMED'))
);
CREATE INDEX event_seats_event_status_idx ON event_seats (event_id, status);
CREATE INDEX event_seats_section_idx ON event_seats (event_id, section_id);
CREATE INDEX event_seats_holder_idx ON event_seats (held_by, event_id) WHERE status = 'HELD';
-- The expiry job's scan: holds that no booking protects, by expiry.
CREATE INDEX event_seats_hold_expiry_idx ON event_seats (held_until) WHERE status = 'HELD' AND booking_id IS NULL;
CREATE INDEX event_seats_booking_idx ON event_seats (booking_id) WHERE booking_id IS NOT NULL;

ALTER TABLE booking_items
    ADD FOREIGN KEY (event_seat_id) REFERENCES event_seats (id);

-- A booking's subtotal equals the sum of its items; checked at commit, when both sides are written.
CREATE FUNCTION check_booking_subtotal() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    target uuid;
    items_sum bigint;
    booked_subtotal bigint;
BEGIN
    IF TG_TABLE_NAME = 'bookings' THEN
        target := NEW.id;
    ELSIF TG_OP = 'DELETE' THEN
        target := OLD.booking_id;
    ELSE
        target := NEW.booking_id;
    END IF;
    SELECT subtotal INTO booked_subtotal FROM bookings WHERE id = target;
    IF booked_subtotal IS NULL THEN
        RETURN NULL;
    END IF;
    SELECT COALESCE(sum(price), 0) INTO items_sum FROM booking_items WHERE booking_id = target;
    IF items_sum <> booked_subtotal THEN
        RAISE EXCEPTION 'booking % subtotal % does not equal its items (%)', target, booked_subtotal, items_sum
            USING ERRCODE = 'check_violation', CONSTRAINT = 'bookings_subtotal_matches_items';
    END IF;
    RETURN NULL;
END;
$$;
CREATE CONSTRAINT TRIGGER bookings_subtotal_matches_items
    AFTER INSERT OR UPDATE OF subtotal ON bookings
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION check_booking_subtotal();
CREATE CONSTRAINT TRIGGER booking_items_subtotal_matches_items
    AFTER INSERT OR UPDATE OR DELETE ON booking_items
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION check_booking_subtotal();

CREATE TABLE payments (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    booking_id   uuid NOT NULL REFERENCES bookings (id),
    status       text NOT NULL CHECK (status IN ('SUCCEEDED', 'FAILED', 'REFUNDED')),
    amount       bigint NOT NULL CHECK (amount >= 0),
    currency     text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    provider     text NOT NULL,
    reference    text,
    failure_code text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    refunded_at  timestamptz,
    CHECK ((status = 'REFUNDED') = (refunded_at IS NOT NULL))
);
CREATE INDEX payments_booking_idx ON payments (booking_id);
-- At most one charge that went through per booking.
CREATE UNIQUE INDEX payments_one_success_key ON payments (booking_id) WHERE status IN ('SUCCEEDED', 'REFUNDED');

CREATE TABLE coupon_redemptions (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    coupon_id   uuid NOT NULL REFERENCES coupons (id),
    booking_id  uuid NOT NULL UNIQUE REFERENCES bookings (id),
    user_id     uuid NOT NULL REFERENCES users (id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    released_at timestamptz
);
CREATE INDEX coupon_redemptions_live_idx ON coupon_redemptions (coupon_id, user_id) WHERE released_at IS NULL;

CREATE TABLE reviews (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    event_id   uuid NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    user_id    uuid NOT NULL REFERENCES users (id),
    rating     smallint NOT NULL CHECK (rating BETWEEN 1 AND 5),
    comment    text CHECK (length(comment) <= 2000),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX reviews_event_user_key ON reviews (event_id, user_id);

CREATE TABLE notifications (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    type       text NOT NULL,
    title      text NOT NULL,
    body       text NOT NULL,
    data       jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    read_at    timestamptz
);
CREATE INDEX notifications_user_idx ON notifications (user_id, created_at DESC);
CREATE INDEX notifications_unread_idx ON notifications (user_id, created_at DESC) WHERE read_at IS NULL;

-- A replayed request with the same key gets the first answer; response_status is NULL while in flight.
CREATE TABLE idempotency_keys (
    user_id         uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    key             text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    operation       text NOT NULL,
    request_hash    bytea NOT NULL,
    response_status integer,
    response_body   text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    expires_at      timestamptz NOT NULL,
    PRIMARY KEY (user_id, key)
);
CREATE INDEX idempotency_keys_expiry_idx ON idempotency_keys (expires_at);
