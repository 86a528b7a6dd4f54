"""BookingsFunction: /api/bookings/* (holds, bookings, payment intents and confirmation, cancellation)."""

# Annotations stay real objects (no `from __future__ import annotations`): Powertools reads the
# handlers' and dependencies' type hints on every request, and string annotations would be compiled and
# evaluated each time (seen in a profile of the hold path: several compile() calls per request).

import json
from collections.abc import Callable
from typing import Annotated, Any
from uuid import UUID

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Header, Query

from ticketing import domain_events
from ticketing.bookings import best_available, checkout, holds, service
from ticketing.bookings.models import (
    BookingOut,
    BookingStatus,
    CancelRequest,
    ConfirmRequest,
    CreateBookingRequest,
    ExtendRequest,
    ExtendResult,
    HoldBestRequest,
    HoldBestResult,
    HoldRequest,
    HoldResult,
    HoldStatus,
    PayResult,
    ReleaseRequest,
    ReleaseResult,
)
from ticketing.bookings.service import ExpectedVersion
from ticketing.db import Session
from ticketing.http import idempotency
from ticketing.http.limits import BuyingCaller
from ticketing.http.operations import answers
from ticketing.http.paging import PageNumber, PageSize
from ticketing.http.resolver import create_resolver, lambda_entrypoint
from ticketing.http.security import CurrentUser
from ticketing.http.tags import ApiTag
from ticketing.models import ApiModel, Page
from ticketing.snapstart import warm_before_snapshot
from ticketing.waiting_room import tokens
from ticketing.waiting_room.admission import buying_call, session_released

app = create_resolver(tag=ApiTag.BOOKINGS)

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="idempotency-key",
        min_length=1,
        max_length=255,
        pattern=r"^[!-~]+$",
        description="retry-safe request key: 1-255 visible ASCII characters, e.g. a UUID",
    ),
]
# Answers of the idempotency layer (docs/decisions.md, Idempotency-Key).
_IDEMPOTENCY_CONFLICTS = ("IDEMPOTENCY_IN_PROGRESS", "CONCURRENT_UPDATE")
# Waiting room (docs/waiting-room.md): hold-seats, hold-best and create of an event with a room need it.
AdmissionToken = Annotated[
    str | None,
    Header(alias="x-admission-token", max_length=1000, description="the waiting room's admission token"),
]
_ADMISSION = {403: ["ADMISSION_REQUIRED", "ADMISSION_EXPIRED", "ADMISSION_INVALID"]}
IfMatch = Annotated[str | None, Header(alias="if-match", description='"<version>" in place of `version`')]


def _json(status: int, body: str, headers: dict[str, str] | None = None) -> Response[str]:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=body, headers=headers)


# Stores the request's answer in the transaction given (ticketing.bookings.service.StoreAnswer).
_StoreAnswer = Callable[[Session, ApiModel], None]


def _once(
    caller: CurrentUser,
    key: str | None,
    operation: str,
    request: dict[str, Any],
    produce: Callable[[_StoreAnswer | None], ApiModel],
    status: int = 200,
    headers_for: Callable[[idempotency.Answer], dict[str, str]] | None = None,
    atomic: bool = False,
) -> Response[str]:
    """`atomic`: the operation is one transaction with no external call, so its answer commits with it. Otherwise
    `produce` gets, when a key was given, what its outcome's transaction stores the answer with (confirm, cancel)."""

    def answer_of(model: ApiModel) -> idempotency.Answer:
        return idempotency.Answer(status, model.model_dump_json(by_alias=True))

    def execute(writer: idempotency.AnswerWriter | None) -> idempotency.Answer:
        store: _StoreAnswer | None = None if writer is None else lambda tx, model: writer.store(tx, answer_of(model))
        return answer_of(produce(store))

    answer = idempotency.run_once(
        user_id=caller.user_id, key=key, operation=operation, request=request, execute=execute, atomic=atomic
    )
    if atomic:
        # What the operation recorded waited for the answer's commit (ticketing.domain_events).
        domain_events.publish_after_commit()
    headers = headers_for(answer) if headers_for else {}
    if answer.replayed:
        headers["Idempotent-Replayed"] = "true"
    return _json(answer.status, answer.body, headers or None)


@app.post(
    "/api/bookings/hold-seats",
    summary="Hold seats, by id or by label, for HOLD_TTL_SECONDS (all or nothing, never waits)",
)
@answers(
    HoldResult,
    errors={
        404: ["NOT_FOUND"],
        409: ["SEATS_UNAVAILABLE", "SEATS_LOCKED", "EVENT_NOT_ON_SALE", "TICKET_LIMIT", *_IDEMPOTENCY_CONFLICTS],
        422: ["IDEMPOTENCY_KEY_REUSED"],
        **_ADMISSION,
    },
)
def hold_seats(
    body: HoldRequest,
    caller: BuyingCaller,
    idempotency_key: IdempotencyKey = None,
    admission_token: AdmissionToken = None,
) -> Response[str]:
    """Locks the seats NOWAIT: a seat someone is locking right now is 409 SEATS_LOCKED with Retry-After: 1; one
    held or booked by someone else is 409 SEATS_UNAVAILABLE with details.seatIds. Seats come by id (`seatIds`) or
    by label (`seats`: section, row, number); an unknown label is 422 naming it."""
    request = body.model_dump(mode="json", exclude_none=True)
    with buying_call(caller, body.event_id, admission_token):
        return _once(
            caller, idempotency_key, "hold-seats", request, lambda _: holds.place_hold(caller, body), atomic=True
        )


@app.post(
    "/api/bookings/hold-best",
    summary="Hold the best available block of adjacent seats (front row first, then nearest the centre)",
)
@answers(
    HoldBestResult,
    errors={
        404: ["NOT_FOUND"],
        409: ["NO_ADJACENT_SEATS", "SEATS_LOCKED", "EVENT_NOT_ON_SALE", "TICKET_LIMIT", *_IDEMPOTENCY_CONFLICTS],
        422: ["IDEMPOTENCY_KEY_REUSED"],
        **_ADMISSION,
    },
)
def hold_best(
    body: HoldBestRequest,
    caller: BuyingCaller,
    idempotency_key: IdempotencyKey = None,
    admission_token: AdmissionToken = None,
) -> Response[str]:
    """`quantity` adjacent seats in one row, each priced at most `maxPrice`: the row nearest the front, then the
    block nearest its centre, never stranding a single seat when an equally good block avoids it
    (docs/best-available.md). Rows other buyers are locking are skipped, not waited for."""
    request = body.model_dump(mode="json")
    with buying_call(caller, body.event_id, admission_token):
        return _once(
            caller,
            idempotency_key,
            "hold-best",
            request,
            lambda _: best_available.hold_best(caller, body),
            atomic=True,
        )


@app.post("/api/bookings/release-seats", summary="Release the caller's holds that are not in a booking")
@answers(ReleaseResult, errors={409: ["SEATS_LOCKED"]})
def release_seats(body: ReleaseRequest, caller: CurrentUser) -> ReleaseResult:
    """All the caller's un-booked holds for the event when seatIds is absent; seats not held are ignored.
    Releasing them all ends the caller's waiting-room session: the next buyer is admitted in its place."""
    released = holds.release_hold(caller, body)
    session_released(body.event_id, len(released.released_seat_ids), all_holds=body.seat_ids is None)
    return released


@app.post("/api/bookings/extend-hold", summary="Extend the caller's live holds for an event")
@answers(ExtendResult, errors={404: ["NOT_FOUND"], 409: ["HOLD_EXTENSION_LIMIT", "EVENT_NOT_ON_SALE", "SEATS_LOCKED"]})
def extend_hold(body: ExtendRequest, caller: CurrentUser) -> ExtendResult:
    """At most MAX_HOLD_EXTENSIONS times per hold; 404 when the caller holds nothing live for the event."""
    return holds.extend_hold(caller, body)


@app.get("/api/bookings/hold-status", summary="The caller's live holds, with the server's clock")
def hold_status(caller: CurrentUser, event_id: Annotated[UUID | None, Query(alias="eventId")] = None) -> HoldStatus:
    """Live, un-booked holds with seconds left by the server's clock."""
    return holds.hold_status(caller, event_id)


@app.post("/api/bookings/create", summary="Create a PENDING booking from the caller's live holds", status_code=201)
@answers(
    BookingOut,
    status=201,
    headers={"Location": "the booking's URL", "ETag": "the booking's version, for If-Match"},
    errors={
        404: ["NOT_FOUND"],
        409: [
            "SEATS_NOT_HELD",
            "SEATS_LOCKED",
            "EVENT_NOT_ON_SALE",
            "COUPON_EXHAUSTED",
            "COUPON_LIMIT_REACHED",
            *_IDEMPOTENCY_CONFLICTS,
        ],
        422: [
            "COUPON_INVALID",
            "COUPON_NOT_ACTIVE",
            "COUPON_CURRENCY_MISMATCH",
            "COUPON_MIN_SUBTOTAL",
            "IDEMPOTENCY_KEY_REUSED",
        ],
        **_ADMISSION,
    },
)
def create_booking(
    body: CreateBookingRequest,
    caller: CurrentUser,
    idempotency_key: IdempotencyKey = None,
    admission_token: AdmissionToken = None,
) -> Response[str]:
    """Uses the caller's live holds (all of them for the event when seatIds is absent); the seats stay held
    for the booking until expiresAt."""
    request = body.model_dump(mode="json")
    with buying_call(caller, body.event_id, admission_token, books=True):
        return _once(
            caller,
            idempotency_key,
            "create",
            request,
            lambda _: service.create_booking(caller, body),
            201,
            headers_for=_created_booking_headers,
            atomic=True,
        )


def _created_booking_headers(answer: idempotency.Answer) -> dict[str, str]:
    """`Location` and `ETag` of a created booking, the same on an idempotent replay."""
    if answer.status != 201:
        return {}
    booking = json.loads(answer.body)
    return {"Location": f"/api/bookings/{booking['id']}", "ETag": f'"{booking["version"]}"'}


@app.post("/api/bookings/<booking_id>/pay", summary="The booking's payment intent, for the provider's browser SDK")
@answers(
    PayResult,
    errors={
        404: ["NOT_FOUND"],
        409: ["VERSION_CONFLICT", "BOOKING_EXPIRED", "NOTHING_TO_PAY"],
        503: ["PAYMENT_PROVIDER_UNAVAILABLE"],
    },
)
def pay(booking_id: UUID, caller: CurrentUser) -> PayResult:
    """Creates the provider's payment intent for the PENDING booking's total, once per booking version (a repeat
    answers the same one), with `payment.clientSecret` for Stripe.js; then confirm with `paymentId`
    (docs/payments.md)."""
    return checkout.pay(caller, booking_id)


@app.post("/api/bookings/<booking_id>/confirm", summary="Pay for a PENDING booking, or confirm a payment made")
@answers(
    BookingOut,
    errors={
        402: ["PAYMENT_DECLINED", "PAYMENT_REQUIRES_ACTION"],
        404: ["NOT_FOUND"],
        409: [
            "VERSION_CONFLICT",
            "BOOKING_EXPIRED",
            "PAYMENT_IN_PROGRESS",
            "SEATS_LOCKED",
            *_IDEMPOTENCY_CONFLICTS,
        ],
        412: ["PRECONDITION_FAILED"],
        422: ["AMOUNT_MISMATCH", "IDEMPOTENCY_KEY_REUSED"],
        503: ["PAYMENT_PROVIDER_UNAVAILABLE"],
    },
)
def confirm_booking(
    booking_id: UUID,
    body: ConfirmRequest,
    caller: CurrentUser,
    idempotency_key: IdempotencyKey = None,
    if_match: IfMatch = None,
) -> Response[str]:
    """Optimistic on `version` (body or If-Match). `{paymentToken, amount}` charges and confirms in one call
    (`amount` must equal the total; test mode: tok_visa pays, tok_chargeDeclined is declined, tok_threeDSecure
    needs 3-D Secure: 402 PAYMENT_REQUIRES_ACTION with details.clientSecret). `{paymentId}` confirms a payment
    made through the provider's browser SDK after `pay`."""
    request = {"bookingId": str(booking_id), "ifMatch": if_match, **body.model_dump(mode="json")}
    return _once(
        caller,
        idempotency_key,
        "confirm",
        request,
        lambda store: checkout.confirm(
            caller, booking_id, body, ExpectedVersion.from_request(body.version, if_match), store
        ),
    )


@app.post("/api/bookings/<booking_id>/cancel", summary="Cancel a booking (refunded when it was paid)")
@answers(
    BookingOut,
    errors={
        404: ["NOT_FOUND"],
        409: [
            "ALREADY_CANCELLED",
            "BOOKING_EXPIRED",
            "VERSION_CONFLICT",
            "CANCELLATION_WINDOW_CLOSED",
            "SEATS_LOCKED",
            *_IDEMPOTENCY_CONFLICTS,
        ],
        412: ["PRECONDITION_FAILED"],
        422: ["IDEMPOTENCY_KEY_REUSED"],
    },
)
def cancel_booking(
    booking_id: UUID,
    caller: CurrentUser,
    body: CancelRequest | None = None,
    idempotency_key: IdempotencyKey = None,
    if_match: IfMatch = None,
) -> Response[str]:
    """The owner or an ADMIN. A CONFIRMED booking is refunded, unless the event starts within
    CANCELLATION_CUTOFF_HOURS (customers only)."""
    cancel = body or CancelRequest()
    request = {"bookingId": str(booking_id), "ifMatch": if_match, **cancel.model_dump(mode="json")}
    return _once(
        caller,
        idempotency_key,
        "cancel",
        request,
        lambda store: service.cancel_booking(
            caller, booking_id, cancel, ExpectedVersion.from_request(cancel.version, if_match), store
        ),
    )


@app.get("/api/bookings/<booking_id>", summary="One booking, with its version as ETag")
@answers(BookingOut, errors={404: ["NOT_FOUND"]}, headers={"ETag": '"<version>", usable as If-Match'})
def get_booking(booking_id: UUID, caller: CurrentUser) -> Response[str]:
    """The owner or an ADMIN; anyone else gets 404."""
    booking = service.get_booking(caller, booking_id)
    return _json(200, booking.model_dump_json(by_alias=True), {"ETag": f'"{booking.version}"'})


@app.get("/api/bookings", summary="The caller's bookings, newest first")
def list_bookings(
    caller: CurrentUser,
    page: PageNumber = 1,
    page_size: PageSize = 20,
    status: Annotated[BookingStatus | None, Query()] = None,
    event_id: Annotated[UUID | None, Query(alias="eventId")] = None,
) -> Page[BookingOut]:
    """The caller's bookings, newest first."""
    return service.list_bookings(caller, status=status, event_id=event_id, page=page, page_size=page_size)


lambda_handler = lambda_entrypoint(app)
# Waiting room: under SnapStart the snapshot holds the admission check's cryptography and key ring loaded.
warm_before_snapshot(tokens.warm_up)
