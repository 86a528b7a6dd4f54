"""BookingsFunction: /api/bookings/* (holds, bookings, payment, cancellation)."""

# Annotations stay real objects (no `from __future__ import annotations`): Powertools reads the
# handlers' and dependencies' type hints on every request, and string annotations would be compiled and
# evaluated each time (seen in a profile of the hold path: several compile() calls per request).

import json
from collections.abc import Callable
from typing import Annotated, Any
from uuid import UUID

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Header, Query

from ticketing.bookings import best_available, holds, idempotency, service
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
    headers_for: Callable[[idempotency.Answer], dict[str, str]] | None = None,
) -> Response[str]:
    answer = idempotency.run_once(
        user_id=caller.user_id,
        key=key,
        operation=operation,
        request=request,
        execute=lambda: idempotency.Answer(status, produce().model_dump_json(by_alias=True)),
    )
    headers = headers_for(answer) if headers_for else {}
    if answer.replayed:
        headers["Idempotent-Replayed"] = "true"
    return _json(answer.status, answer.body, headers or None)


@app.post(
    "/api/bookings/hold-seats",
    summary="Hold seats, by id or by label, for HOLD_TTL_SECONDS (all or nothing, never waits)",
    responses={200: {"description": "The hold", "content": {"application/json": {"model": HoldResult}}}},
)
def hold_seats(body: HoldRequest, caller: CurrentUser, idempotency_key: IdempotencyKey = None) -> Response[str]:
    request = body.model_dump(mode="json", exclude_none=True)
    return _once(caller, idempotency_key, "hold-seats", request, lambda: holds.place_hold(caller, body))


@app.post(
    "/api/bookings/hold-best",
    summary="Hold the best available block of adjacent seats (front row first, then nearest the centre)",
    responses={200: {"description": "The hold", "content": {"application/json": {"model": HoldBestResult}}}},
)
def hold_best(body: HoldBestRequest, caller: CurrentUser, idempotency_key: IdempotencyKey = None) -> Response[str]:
    request = body.model_dump(mode="json")
    return _once(caller, idempotency_key, "hold-best", request, lambda: best_available.hold_best(caller, body))


@app.post("/api/bookings/release-seats", summary="Release the caller's holds that are not in a booking")
def release_seats(body: ReleaseRequest, caller: CurrentUser) -> ReleaseResult:
    return holds.release_hold(caller, body)


@app.post("/api/bookings/extend-hold", summary="Extend the caller's live holds for an event")
def extend_hold(body: ExtendRequest, caller: CurrentUser) -> ExtendResult:
    return holds.extend_hold(caller, body)


@app.get("/api/bookings/hold-status", summary="The caller's live holds, with the server's clock")
def hold_status(caller: CurrentUser, event_id: Annotated[UUID | None, Query(alias="eventId")] = None) -> HoldStatus:
    return holds.hold_status(caller, event_id)


@app.post(
    "/api/bookings/create",
    summary="Create a PENDING booking from the caller's live holds",
    status_code=201,
    responses={
        201: {
            "description": "The booking; `Location` names it and `ETag` carries its version",
            "content": {"application/json": {"model": BookingOut}},
        }
    },
)
def create_booking(
    body: CreateBookingRequest, caller: CurrentUser, idempotency_key: IdempotencyKey = None
) -> Response[str]:
    request = body.model_dump(mode="json")
    return _once(
        caller,
        idempotency_key,
        "create",
        request,
        lambda: service.create_booking(caller, body),
        201,
        headers_for=_created_booking_headers,
    )


def _created_booking_headers(answer: idempotency.Answer) -> dict[str, str]:
    """`Location` and `ETag` of a created booking, the same on an idempotent replay."""
    if answer.status != 201:
        return {}
    booking = json.loads(answer.body)
    return {"Location": f"/api/bookings/{booking['id']}", "ETag": f'"{booking["version"]}"'}


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
