"""CouponsFunction: /api/coupons (create and list discount coupons)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from aws_lambda_powertools.event_handler.openapi.params import Query

from ticketing.coupons import service
from ticketing.coupons.models import CouponCreate, CouponOut
from ticketing.http.operations import answers
from ticketing.http.paging import PageNumber, PageSize
from ticketing.http.resolver import create_resolver, lambda_entrypoint
from ticketing.http.security import OrganizerOrAdmin
from ticketing.http.tags import ApiTag
from ticketing.models import Page

app = create_resolver(tag=ApiTag.COUPONS)


@app.post("/api/coupons", summary="Create a coupon (ADMIN, or ORGANIZER for an own event)", status_code=201)
@answers(CouponOut, status=201, errors={409: ["COUPON_CODE_TAKEN"]})
def create_coupon(body: CouponCreate, caller: OrganizerOrAdmin) -> CouponOut:
    """Codes are case-insensitive (stored upper-case). An organizer must name an event they organize."""
    return service.create_coupon(caller, body)


@app.get("/api/coupons", summary="Coupons the caller manages")
def list_coupons(
    caller: OrganizerOrAdmin,
    event_id: Annotated[UUID | None, Query(alias="eventId")] = None,
    page: PageNumber = 1,
    page_size: PageSize = 20,
) -> Page[CouponOut]:
    """Admins see all coupons; organizers those of their events and those they created. Newest first."""
    return service.list_coupons(caller, event_id=event_id, page=page, page_size=page_size)


lambda_handler = lambda_entrypoint(app)
