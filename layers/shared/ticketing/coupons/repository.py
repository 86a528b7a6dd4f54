"""SQL for coupons and their redemptions."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from ticketing.db import Session
from ticketing.db.connection import Row
from ticketing.db.id_set import IdSet

_COUPON_COLUMNS = (
    "id, code, type, value, currency, event_id, max_redemptions, per_user_limit, redeemed_count,"
    " valid_from, valid_until, min_subtotal, created_by, created_at"
)


def lock_by_code(tx: Session, code: str) -> Row | None:
    """The coupon with this code (codes are stored upper-case), locked so its redemptions queue up behind us.

    `checked_at` is the transaction's clock, so the validity window is judged by the database's time.
    """
    return tx.row(
        f"SELECT {_COUPON_COLUMNS}, now() AS checked_at FROM coupons WHERE code = upper(:code) FOR UPDATE",
        code=code,
    )


def count_live_redemptions(tx: Session, coupon_id: UUID, user_id: UUID) -> int:
    return int(
        tx.value(
            "SELECT count(*) FROM coupon_redemptions"
            " WHERE coupon_id = :coupon_id AND user_id = :user_id AND released_at IS NULL",
            coupon_id=coupon_id,
            user_id=user_id,
        )
    )


def add_to_redeemed_count(tx: Session, coupon_id: UUID, delta: int) -> None:
    tx.execute(
        "UPDATE coupons SET redeemed_count = redeemed_count + :delta WHERE id = :id",
        delta=delta,
        id=coupon_id,
    )


def insert_redemption(tx: Session, *, coupon_id: UUID, booking_id: UUID, user_id: UUID) -> None:
    tx.execute(
        "INSERT INTO coupon_redemptions (coupon_id, booking_id, user_id) VALUES (:coupon_id, :booking_id, :user_id)",
        coupon_id=coupon_id,
        booking_id=booking_id,
        user_id=user_id,
    )


def release_redemptions(tx: Session, booking_ids: IdSet) -> int:
    """Gives back the live redemptions of many bookings in one statement; answers how many it released.

    Coupon rows are locked in id order (after the callers' seat and booking locks, like everywhere).
    """
    released: int = tx.value(
        "WITH released AS ("
        "  UPDATE coupon_redemptions SET released_at = now()"
        "  WHERE booking_id = ANY(CAST(:ids AS uuid[])) AND released_at IS NULL RETURNING coupon_id),"
        " per_coupon AS (SELECT coupon_id, count(*) AS n FROM released GROUP BY coupon_id),"
        " locked AS (SELECT c.id, p.n FROM coupons c JOIN per_coupon p ON p.coupon_id = c.id"
        "  ORDER BY c.id FOR UPDATE OF c),"
        " counted AS (UPDATE coupons SET redeemed_count = redeemed_count - locked.n FROM locked"
        "  WHERE coupons.id = locked.id RETURNING locked.n)"
        " SELECT COALESCE(sum(n), 0) FROM counted",
        ids=booking_ids.literal,
    )
    return int(released)


def find_event(tx: Session, event_id: UUID) -> Row | None:
    """The few facts about an event that coupon rules need: who organizes it and its currency."""
    return tx.row("SELECT id, organizer_id, currency FROM events WHERE id = :id", id=event_id)


def insert_coupon(
    tx: Session,
    *,
    code: str,
    coupon_type: str,
    value: int,
    currency: str | None,
    event_id: UUID | None,
    max_redemptions: int | None,
    per_user_limit: int | None,
    valid_from: datetime | None,
    valid_until: datetime | None,
    min_subtotal: int,
    created_by: UUID,
) -> Row:
    row = tx.row(
        "INSERT INTO coupons (code, type, value, currency, event_id, max_redemptions, per_user_limit,"
        " valid_from, valid_until, min_subtotal, created_by)"
        " VALUES (:code, :type, :value, :currency, :event_id, :max_redemptions, :per_user_limit,"
        " :valid_from, :valid_until, :min_subtotal, :created_by)"
        f" RETURNING {_COUPON_COLUMNS}",
        code=code,
        type=coupon_type,
        value=value,
        currency=currency,
        event_id=event_id,
        max_redemptions=max_redemptions,
        per_user_limit=per_user_limit,
        valid_from=valid_from,
        valid_until=valid_until,
        min_subtotal=min_subtotal,
        created_by=created_by,
    )
    assert row is not None
    return row


def list_coupons(
    tx: Session, *, visible_to: UUID | None, event_id: UUID | None, limit: int, offset: int
) -> tuple[list[Row], int]:
    """A page of coupons, newest first, and how many match in all.

    `visible_to` None means every coupon (admins); otherwise the coupons of events that user organizes
    and the ones they created.
    """
    where = (
        " WHERE (CAST(:event_id AS uuid) IS NULL OR c.event_id = :event_id)"
        " AND (CAST(:visible_to AS uuid) IS NULL OR c.created_by = :visible_to"
        " OR EXISTS (SELECT 1 FROM events e WHERE e.id = c.event_id AND e.organizer_id = :visible_to))"
    )
    params = {"event_id": event_id, "visible_to": visible_to}
    total = int(tx.value(f"SELECT count(*) FROM coupons c{where}", **params))
    rows = tx.rows(
        f"SELECT {_COUPON_COLUMNS} FROM coupons c{where} ORDER BY c.created_at DESC, c.id LIMIT :limit OFFSET :offset",
        limit=limit,
        offset=offset,
        **params,
    )
    return rows, total
