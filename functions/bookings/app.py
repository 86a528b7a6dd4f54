"""BookingsFunction: /api/bookings/* (holds, bookings, payment, cancellation)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any
from uuid import UUID

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Header, Query

from ticketing.bookings import holds, idempotency, service
from ticketing.bookings.models import (
    BookingOut,
    BookingStatus,
    CancelRequest,
    ConfirmRequest,
    CreateBookingRequest,
    ExtendRequest,
    ExtendResult,
    HoldRequest,
    HoldStatus,
    ReleaseRequest,
    ReleaseResult,
)
from ticketing.bookings.service import ExpectedVersion
from ticketing.http.paging import PageNumber, PageSize
from ticketing.http.resolver import create_resolver, lambda_entrypoint
from ticketing.http.security import CurrentUser
from ticketing.models import ApiModel, Page

app = create_resolver()

IdempotencyKey = Annotated[
    str | None, Header(alias="idempotency-key", min_length=1, max_length=255, description="retry-safe request key")
]
IfMatch = Annotated[str | None, Header(alias="if-match", description='"<version>" in place of `version`')]


def _json(status: int, body: str, headers: dict[str, str] | None = None) -> Response[str]:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=body, headers=headers)


def _once(
    caller: CurrentUser,
    key: str | None,
    operation: str,
    request: dict[str, Any],
    produce: Callable[[], ApiModel],
    status: int = 200,
) -> Response[str]:
    answer = idempotency.run_once(
        user_id=caller.user_id,
        key=key,
        operation=operation,
        request=request,
        execute=lambda: idempotency.Answer(status, produce().model_dump_json(by_alias=True)),
    )
    return _json(answer.status, answer.body, {"Idempotent-Replayed": "true"} if answer.replayed else None)


@app.post("/api/bookings/hold-seats", summary="Hold seats for HOLD_TTL_SECONDS (all or nothing, never waits)")
def hold_seats(body: HoldRequest, caller: CurrentUser, idempotency_key: IdempotencyKey = None) -> Response[str]:
    request = body.model_dump(mode="json")
    return _once(caller, idempotency_key, "hold-seats", request, lambda: holds.place_hold(caller, body))


@app.post("/api/bookings/release-seats", summary="Release the caller's holds that are not in a booking")
def release_seats(body: ReleaseRequest, caller: CurrentUser) -> ReleaseResult:
    return holds.release_hold(caller, body)


@app.post("/api/bookings/extend-hold", summary="Extend the caller's live holds for an event")
def extend_hold(body: ExtendRequest, caller: CurrentUser) -> ExtendResult:
    return holds.extend_hold(caller, body)


@app.get("/api/bookings/hold-status", summary="The caller's live holds, with the server's clock")
def hold_status(caller: CurrentUser, event_id: Annotated[UUID | None, Query(alias="eventId")] = None) -> HoldStatus:
    return holds.hold_status(caller, event_id)


@app.post("/api/bookings/create", summary="Create a PENDING booking from the caller's live holds", status_code=201)
def create_booking(
    body: CreateBookingRequest, caller: CurrentUser, idempotency_key: IdempotencyKey = None
) -> Response[str]:
    request = body.model_dump(mode="json")
    return _once(caller, idempotency_key, "create", request, lambda: service.create_booking(caller, body), 201)


@app.post("/api/bookings/<booking_id>/confirm", summary="Pay for a PENDING booking")
def confirm_booking(
    booking_id: UUID,
    body: ConfirmRequest,
    caller: CurrentUser,
    idempotency_key: IdempotencyKey = None,
    if_match: IfMatch = None,
) -> Response[str]:
    request = {"bookingId": str(booking_id), "ifMatch": if_match, **body.model_dump(mode="json")}
    return _once(
        caller,
        idempotency_key,
        "confirm",
        request,
        lambda: service.confirm_booking(caller, booking_id, body, ExpectedVersion.from_request(body.version, if_match)),
    )


@app.post("/api/bookings/<booking_id>/cancel", summary="Cancel a booking (refunded when it was paid)")
def cancel_booking(
    booking_id: UUID,
    caller: CurrentUser,
    body: CancelRequest | None = None,
    idempotency_key: IdempotencyKey = None,
    if_match: IfMatch = None,
) -> Response[str]:
    cancel = body or CancelRequest()
    request = {"bookingId": str(booking_id), "ifMatch": if_match, **cancel.model_dump(mode="json")}
    return _once(
        caller,
        idempotency_key,
        "cancel",
        request,
        lambda: service.cancel_booking(
            caller, booking_id, cancel, ExpectedVersion.from_request(cancel.version, if_match)
        ),
    )


@app.get("/api/bookings/<booking_id>", summary="One booking, with its version as ETag")
def get_booking(booking_id: UUID, caller: CurrentUser) -> Response[str]:
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
    return service.list_bookings(caller, status=status, event_id=event_id, page=page, page_size=page_size)


lambda_handler = lambda_entrypoint(app)
