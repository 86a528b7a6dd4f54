"""Request and response bodies of /api/coupons."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import Field, StringConstraints, ValidationInfo, field_validator

from ticketing.models import ApiModel, UtcDateTime, UtcInput, example

# Codes are matched case-insensitively, so they are kept upper-case (the database CHECK says the same).
CouponCode = Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^[A-Za-z0-9_-]{3,40}$")]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
# Bounds keep every amount and count inside its database column, so oversized input is a 422, not a 500.
Amount = Annotated[int, Field(ge=0, le=10**12, strict=True)]
Limit = Annotated[int, Field(ge=1, le=1_000_000_000, strict=True)]


class CouponCreate(ApiModel):
    model_config = example(
        {
            "code": "SUMMER10",
            "type": "PERCENT",
            "value": 10,
            "eventId": "3fa85f64-5717-4562-b3fc-2c963f66afa6",
            "maxRedemptions": 100,
            "perUserLimit": 1,
        }
    )

    code: CouponCode
    type: Literal["PERCENT", "FIXED"]
    value: Annotated[int, Field(ge=1, le=10**12, strict=True, description="PERCENT: 1-100; FIXED: minor units")]
    event_id: UUID | None = None
    max_redemptions: Limit | None = None
    per_user_limit: Limit | None = None
    valid_from: UtcInput | None = None
    valid_until: UtcInput | None = None
    min_subtotal: Amount = 0
    currency: Currency | None = Field(
        default=None, description="required for FIXED coupons and minimum subtotals unless eventId gives it"
    )

    @field_validator("value")
    @classmethod
    def _percent_at_most_100(cls, value: int, info: ValidationInfo) -> int:
        if info.data.get("type") == "PERCENT" and value > 100:
            raise ValueError("A PERCENT coupon takes a value from 1 to 100.")
        return value

    @field_validator("valid_until")
    @classmethod
    def _window_not_empty(cls, value: datetime | None, info: ValidationInfo) -> datetime | None:
        valid_from = info.data.get("valid_from")
        if value is not None and valid_from is not None and value <= valid_from:
            raise ValueError("validUntil must be after validFrom.")
        return value


class CouponOut(ApiModel):
    id: UUID
    code: str
    type: str
    value: int
    currency: str | None
    event_id: UUID | None
    max_redemptions: int | None
    per_user_limit: int | None
    redeemed_count: int
    valid_from: UtcDateTime | None
    valid_until: UtcDateTime | None
    min_subtotal: int
    created_at: UtcDateTime
