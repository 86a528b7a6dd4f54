"""The API document's operation groups: one tag per endpoint group (one per function), with its description.

Each function passes its tag to `create_resolver(tag=...)`; every route it registers is filed under it (a route
may still name other tags itself). `make openapi` lists the tags in this order, with these descriptions.
"""

from __future__ import annotations

from enum import StrEnum


class ApiTag(StrEnum):
    AUTH = "Auth"
    USERS = "Users"
    VENUES = "Venues"
    EVENTS = "Events"
    BOOKINGS = "Bookings"
    PAYMENTS = "Payments"
    WAITING_ROOM = "Waiting room"
    TICKETS = "Tickets"
    COUPONS = "Coupons"
    REVIEWS = "Reviews"
    HEALTH = "Health"
    DOCS = "Docs"


DESCRIPTIONS: dict[ApiTag, str] = {
    ApiTag.AUTH: "Register, sign in, refresh and revoke tokens. The access token authorizes every other call.",
    ApiTag.USERS: "The signed-in user's profile, password and notifications.",
    ApiTag.VENUES: "Browse venues and their sections; admins create venues and sections with their seats.",
    ApiTag.EVENTS: "Browse events and their seat maps; organizers create, publish, reschedule and cancel them.",
    ApiTag.BOOKINGS: (
        "Buy seats: hold them (by id or best available), create a booking, confirm it with a payment, or cancel"
        " it. Hold, create, confirm and cancel accept an `Idempotency-Key`."
    ),
    ApiTag.PAYMENTS: "The payment provider's signed webhooks (no bearer token: the signature authenticates).",
    ApiTag.WAITING_ROOM: (
        "The waiting room in front of an on-sale: join, poll your place, and get the admission token the buying"
        " calls of that event need; organizers watch, pause and resume it."
    ),
    ApiTag.TICKETS: "A confirmed booking's signed tickets, QR codes and transfers, and check-in at the gates.",
    ApiTag.COUPONS: "Discount codes: admins and organizers create them; buyers apply them when creating a booking.",
    ApiTag.REVIEWS: "Ratings and comments of attendees after an event has started.",
    ApiTag.HEALTH: "Whether the API and its database answer.",
    ApiTag.DOCS: "This document, as JSON. The interactive documentation is at /api/docs.",
}


def openapi_tags() -> list[dict[str, str]]:
    """The document's top-level `tags`: every group in order, each with its description."""
    return [{"name": tag.value, "description": DESCRIPTIONS[tag]} for tag in ApiTag]
