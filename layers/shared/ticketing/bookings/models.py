"""Request and response bodies of /api/bookings (see docs/api.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import Field, StringConstraints, field_validator, model_validator

from ticketing.models import ApiModel, MinorUnits, UtcDateTime, Version, example
from ticketing.payments.states import PaymentStatus

BookingStatus = Literal["PENDING", "CONFIRMED", "CANCELLED", "EXPIRED"]
MAX_SEATS_PER_REQUEST = 100


def _no_duplicates(seat_ids: list[UUID] | None) -> list[UUID] | None:
    if seat_ids is not None and len(set(seat_ids)) != len(seat_ids):
        raise ValueError("Each seat may appear only once.")
    return seat_ids


SeatIds = Annotated[list[UUID], Field(min_length=1, max_length=MAX_SEATS_PER_REQUEST)]


RowLabel = Annotated[str, StringConstraints(pattern=r"^[A-Z]{1,3}$")]


class SeatLabel(ApiModel):
    """A seat named as printed on the ticket: section, row label (`A`, ..., `AA`) and seat number."""

    section_id: UUID
    row: RowLabel
    number: Annotated[int, Field(ge=1, le=500)]


class HoldRequest(ApiModel):
    """Seats by id (`seatIds`) or by label (`seats`): exactly one of the two."""

    model_config = example(
        {
            "eventId": "3fa85f64-5717-4562-b3fc-2c963f66afa6",
            "seatIds": ["9b2e4c1a-0d7f-4e8b-a5c3-1f6d2e8b7a90", "9b2e4c1a-0d7f-4e8b-a5c3-1f6d2e8b7a91"],
        }
    )

    event_id: UUID
    seat_ids: SeatIds | None = None
    seats: Annotated[list[SeatLabel], Field(min_length=1, max_length=MAX_SEATS_PER_REQUEST)] | None = None

    _unique = field_validator("seat_ids")(_no_duplicates)

    @field_validator("seats")
    @classmethod
    def _no_duplicate_labels(cls, seats: list[SeatLabel] | None) -> list[SeatLabel] | None:
        if seats is not None and len({(s.section_id, s.row, s.number) for s in seats}) != len(seats):
            raise ValueError("Each seat may appear only once.")
        return seats

    @model_validator(mode="after")
    def _ids_or_labels(self) -> HoldRequest:
        if (self.seat_ids is None) == (self.seats is None):
            raise ValueError("Send exactly one of seatIds and seats.")
        return self


class HoldResult(ApiModel):
    event_id: UUID
    seat_ids: list[UUID]
    held_until: UtcDateTime
    hold_ttl_seconds: int


MAX_BEST_AVAILABLE = 20


class HoldBestRequest(ApiModel):
    model_config = example({"eventId": "3fa85f64-5717-4562-b3fc-2c963f66afa6", "quantity": 4, "maxPrice": 5000})

    event_id: UUID
    quantity: Annotated[int, Field(ge=1, le=MAX_BEST_AVAILABLE, strict=True)]
    section_id: UUID | None = None
    max_price: Annotated[int, Field(ge=0, le=2**53, strict=True)] | None = None


class ReleaseRequest(ApiModel):
    model_config = example(
        {"eventId": "3fa85f64-5717-4562-b3fc-2c963f66afa6", "seatIds": ["9b2e4c1a-0d7f-4e8b-a5c3-1f6d2e8b7a90"]}
    )

    event_id: UUID
    seat_ids: SeatIds | None = None

    _unique = field_validator("seat_ids")(_no_duplicates)


class ReleaseResult(ApiModel):
    event_id: UUID
    released_seat_ids: list[UUID]


class ExtendRequest(ApiModel):
    model_config = example({"eventId": "3fa85f64-5717-4562-b3fc-2c963f66afa6"})

    event_id: UUID


class ExtendResult(ApiModel):
    event_id: UUID
    seat_ids: list[UUID]
    held_until: UtcDateTime
    extensions_left: int


class SeatOut(ApiModel):
    """A seat as a buyer sees it in a hold or a booking."""

    id: UUID
    section: str
    row: str
    number: int
    price: int


class HoldBestResult(HoldResult):
    """The hold-seats answer plus the seats chosen, side by side in one row, in seat-number order."""

    seats: list[SeatOut]


class HeldSeats(ApiModel):
    event_id: UUID
    seats: list[SeatOut]
    held_until: UtcDateTime
    seconds_left: int
    extensions_left: int


class HoldStatus(ApiModel):
    server_time: UtcDateTime
    holds: list[HeldSeats]


class CreateBookingRequest(ApiModel):
    model_config = example({"eventId": "3fa85f64-5717-4562-b3fc-2c963f66afa6", "couponCode": "SUMMER10"})

    event_id: UUID
    seat_ids: SeatIds | None = None
    coupon_code: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)] | None = None

    _unique = field_validator("seat_ids")(_no_duplicates)


class ConfirmRequest(ApiModel):
    """Either `paymentToken` and `amount` (charge and confirm in one call) or `paymentId` (confirm a payment made
    with the provider's browser SDK after `pay`)."""

    model_config = example({"paymentToken": "tok_visa", "amount": 9000, "version": 1})

    payment_token: Annotated[str, StringConstraints(min_length=1, max_length=255)] | None = None
    amount: MinorUnits | None = None
    payment_id: UUID | None = None
    version: Version | None = Field(default=None, description="required unless sent as `If-Match`")

    @model_validator(mode="after")
    def _one_way_to_pay(self) -> ConfirmRequest:
        if (self.payment_token is None) == (self.payment_id is None):
            raise ValueError("Send either paymentToken (with amount) or paymentId.")
        if self.payment_token is not None and self.amount is None:
            raise ValueError("amount is required with paymentToken.")
        if self.payment_id is not None and self.amount is not None:
            raise ValueError("amount goes with paymentToken, not with paymentId.")
        return self


class CancelRequest(ApiModel):
    model_config = example({"reason": "Cannot attend", "version": 2})

    reason: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] | None = None
    version: Version | None = None


class BookingItemOut(ApiModel):
    seat_id: UUID
    section: str
    row: str
    number: int
    price: int


class PaymentOut(ApiModel):
    id: UUID
    status: PaymentStatus = Field(description="REFUND_PENDING: a refund is queued and being sent (docs/refunds.md)")
    amount: int
    currency: str
    provider: str
    reference: str | None = Field(description="the provider's payment intent id")


class PaymentIntentOut(PaymentOut):
    client_secret: str | None = Field(
        description="for the provider's browser SDK (Stripe.js `confirmCardPayment`); null when nothing is to be paid"
    )


class PayResult(ApiModel):
    booking_id: UUID
    payment: PaymentIntentOut


class BookingOut(ApiModel):
    id: UUID
    user_id: UUID
    event_id: UUID
    status: BookingStatus
    items: list[BookingItemOut]
    subtotal: int
    discount: int
    total: int
    currency: str
    coupon_code: str | None
    expires_at: UtcDateTime
    version: int
    created_at: UtcDateTime
    confirmed_at: UtcDateTime | None
    cancelled_at: UtcDateTime | None
    payment: PaymentOut | None

    @classmethod
    def from_rows(
        cls, booking: dict[str, Any], items: list[dict[str, Any]], payment: dict[str, Any] | None
    ) -> BookingOut:
        return cls.from_row(
            booking,
            items=[BookingItemOut.from_row(item) for item in items],
            payment=PaymentOut.from_row(payment) if payment else None,
        )


def seconds_between(start: datetime, end: datetime) -> int:
    """Whole seconds from start to end, never negative."""
    return max(0, int((end - start).total_seconds()))
