"""The coupons' invariants (docs/operations.md, "Invariant check"): redemptions within their limits."""

from __future__ import annotations

from ticketing.db.invariants import Invariant

REDEEMED_COUNT_MATCHES = Invariant(
    "coupons.redeemed_count_matches",
    "a coupon's redeemed_count equals its live (not released) redemptions",
    "SELECT c.id AS coupon_id, c.code, c.redeemed_count, count(r.id) AS live_redemptions FROM coupons c"
    " LEFT JOIN coupon_redemptions r ON r.coupon_id = c.id AND r.released_at IS NULL"
    " GROUP BY c.id HAVING c.redeemed_count <> count(r.id)",
)

WITHIN_LIMITS = Invariant(
    "coupons.within_limits",
    "live redemptions stay within a coupon's max_redemptions and, per user, its per_user_limit",
    "WITH live AS (SELECT coupon_id, user_id, count(*) AS n FROM coupon_redemptions WHERE released_at IS NULL"
    " GROUP BY coupon_id, user_id)"
    " SELECT c.id AS coupon_id, c.code, sum(l.n) AS live_redemptions, c.max_redemptions,"
    " max(l.n) AS most_by_one_user, c.per_user_limit FROM coupons c JOIN live l ON l.coupon_id = c.id"
    " GROUP BY c.id HAVING sum(l.n) > COALESCE(c.max_redemptions, sum(l.n))"
    " OR max(l.n) > COALESCE(c.per_user_limit, max(l.n))",
)

INVARIANTS = (REDEEMED_COUNT_MATCHES, WITHIN_LIMITS)
