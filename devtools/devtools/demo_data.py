"""Demo data for `make run`: loading it twice changes nothing."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from uuid import UUID

from ticketing.auth.passwords import hash_password
from ticketing.auth.principal import Principal, Role
from ticketing.bookings import checkout, holds
from ticketing.bookings import service as bookings_service
from ticketing.bookings.models import ConfirmRequest, CreateBookingRequest, HoldRequest
from ticketing.bookings.service import ExpectedVersion
from ticketing.catalog.events import service as events_service
from ticketing.catalog.events.models import EventCreate, EventOut
from ticketing.catalog.venues import service as venues_service
from ticketing.catalog.venues.models import SectionCreate, VenueCreate, VenueOut
from ticketing.coupons import service as coupons_service
from ticketing.coupons.models import CouponCreate
from ticketing.db import transaction
from ticketing.payments.provider import payment_provider
from ticketing.users import repository as users_repo

DEMO_ACCOUNTS = (
    ("admin@example.com", "Ada Admin", "ADMIN"),
    ("organizer@example.com", "Olga Organizer", "ORGANIZER"),
    ("customer@example.com", "Carl Customer", "USER"),
)

DEMO_VENUE = VenueCreate(
    name="Demo Arena", address="1 Demo Street", city="Berlin", country="DE", timezone="Europe/Berlin"
)
# (name, rows, seats per row, default price in cents)
DEMO_SECTIONS = (
    ("Floor", 20, 30, 6900),
    ("Lower Tier", 15, 40, 4900),
    ("Balcony", 8, 25, 2900),
    ("Boxes", 2, 6, 12900),
)
DEMO_EVENT_TITLE = "Demo Night"
# Boxes of Demo Night: the organizer has taken all but two as house seats, so the section is almost sold out.
HOUSE_SEATS = 10
DEMO_COUPON = "DEMO10"
# Already played: the demo customer has a CONFIRMED booking for it, so reviews can be tried.
PAST_EVENT_TITLE = "Demo Classics"
PAST_EVENT_SEATS = 2
# A stadium of 100,000 seats with an event on sale: the full seat map needs gzip, /seats/status is compact.
LARGE_VENUE = VenueCreate(
    name="Demo Stadium", address="2 Demo Ring", city="Berlin", country="DE", timezone="Europe/Berlin"
)
LARGE_SECTIONS = tuple(
    (f"Stand {side}", 125, 200, price)
    for side, price in (("North", 3900), ("East", 5900), ("South", 3900), ("West", 5900))
)
LARGE_EVENT_TITLE = "Demo Cup Final"


def load_demo_data() -> None:
    password_hash = hash_password(os.environ.get("DEMO_PASSWORD", "demo-password"))
    with transaction() as tx:
        for email, name, role in DEMO_ACCOUNTS:
            tx.execute(
                "INSERT INTO users (email, password_hash, name, role) VALUES (:email, :hash, :name, :role)"
                " ON CONFLICT (lower(email)) DO NOTHING",
                email=email,
                hash=password_hash,
                name=name,
                role=role,
            )
    _load_demo_catalog()


def _load_demo_catalog() -> None:
    """Demo venues and events, each found by its name first, so a second run adds nothing."""
    organizer = _principal("organizer@example.com", Role.ORGANIZER)
    customer = _principal("customer@example.com", Role.USER)
    arena = _venue(DEMO_VENUE, DEMO_SECTIONS)
    night = _event(organizer, arena, DEMO_EVENT_TITLE, "A demo concert, on sale from the moment it is loaded.")
    _sell_house_seats(organizer, night)
    _coupon(organizer, night)
    classics = _event(organizer, arena, PAST_EVENT_TITLE, "Played last week: its ticket holders can review it.")
    _play_in_the_past(customer, classics)
    stadium = _venue(LARGE_VENUE, LARGE_SECTIONS)
    _event(organizer, stadium, LARGE_EVENT_TITLE, "A stadium on sale: try /seats/status on 100,000 seats.")


def _principal(email: str, role: Role) -> Principal:
    return Principal(user_id=_user_id(email), role=role)


def _venue(wanted: VenueCreate, sections: tuple[tuple[str, int, int, int], ...]) -> VenueOut:
    found = venues_service.list_venues(city=wanted.city, q=wanted.name, page=1, page_size=100)
    venue = next((item for item in found.items if item.name == wanted.name), None)
    if venue is None:
        venue = venues_service.create_venue(wanted)
    existing = {section.name for section in venue.sections}
    for name, rows, seats_per_row, price in sections:
        if name not in existing:
            venues_service.add_section(
                venue.id, SectionCreate(name=name, rows=rows, seats_per_row=seats_per_row, default_price=price)
            )
    return venue


def _event(organizer: Principal, venue: VenueOut, title: str, description: str) -> EventOut:
    """The PUBLISHED event of that title at the venue, created 30 days ahead when missing."""
    found = events_service.list_events(
        organizer,
        q=title,
        category=None,
        city=None,
        venue_id=venue.id,
        starts_from=None,
        starts_to=None,
        status=None,
        descending=False,
        page=1,
        page_size=100,
    )
    same_title = [item for item in found.items if item.title == title]
    if same_title:
        return events_service.get_event(organizer, same_title[0].id)
    starts_at = (datetime.now(UTC) + timedelta(days=30)).replace(hour=19, minute=30, second=0, microsecond=0)
    event = events_service.create_event(
        organizer,
        EventCreate(
            venue_id=venue.id,
            title=title,
            description=description,
            category="CONCERT",
            starts_at=starts_at,
            ends_at=starts_at + timedelta(hours=3),
            currency="EUR",
        ),
    )
    return events_service.publish_event(organizer, event.id)


def _first_free_seats(event: EventOut, section_name: str, count: int) -> list[UUID]:
    section = next(section for section in event.sections if section.name == section_name)
    with transaction() as tx:
        rows = tx.rows(
            "SELECT id FROM event_seats WHERE event_id = :event AND section_id = :section AND status = 'AVAILABLE'"
            " ORDER BY seat_index LIMIT :count",
            event=event.id,
            section=section.id,
            count=count,
        )
    return [UUID(str(row["id"])) for row in rows]


# A card that pays, with each provider: a test token, or Stripe's test payment method (localstripe knows it too).
_DEMO_CARD = {"test": "tok_visa", "stripe": "pm_card_visa"}


def _buy(buyer: Principal, event: EventOut, seat_ids: list[UUID]) -> None:
    """Hold, book and pay (test card) through the same services as the API."""
    holds.place_hold(buyer, HoldRequest(event_id=event.id, seat_ids=seat_ids))
    booking = bookings_service.create_booking(buyer, CreateBookingRequest(event_id=event.id))
    checkout.confirm(
        buyer,
        booking.id,
        ConfirmRequest(
            payment_token=_DEMO_CARD[payment_provider().name], amount=booking.total, version=booking.version
        ),
        ExpectedVersion(body=booking.version),
    )


def _confirmed_bookings(buyer: Principal, event: EventOut) -> int:
    with transaction() as tx:
        return int(
            tx.value(
                "SELECT count(*) FROM bookings WHERE user_id = :user AND event_id = :event AND status = 'CONFIRMED'",
                user=buyer.user_id,
                event=event.id,
            )
        )


def _sell_house_seats(organizer: Principal, event: EventOut) -> None:
    if "Boxes" in {section.name for section in event.sections} and not _confirmed_bookings(organizer, event):
        _buy(organizer, event, _first_free_seats(event, "Boxes", HOUSE_SEATS))


def _coupon(organizer: Principal, event: EventOut) -> None:
    with transaction() as tx:
        exists = tx.value("SELECT count(*) FROM coupons WHERE code = :code", code=DEMO_COUPON)
    if not exists:
        coupons_service.create_coupon(
            organizer,
            CouponCreate(code=DEMO_COUPON, type="PERCENT", value=10, event_id=event.id, max_redemptions=100),
        )


def _play_in_the_past(customer: Principal, event: EventOut) -> None:
    """The customer buys two seats while it is on sale; then the event moves a week into the past."""
    if event.starts_at < datetime.now(UTC):
        return
    if not _confirmed_bookings(customer, event):
        _buy(customer, event, _first_free_seats(event, "Floor", PAST_EVENT_SEATS))
    # The API only moves a published event forward; demo data may rewrite history.
    with transaction() as tx:
        tx.execute(
            "UPDATE events SET starts_at = now() - interval '7 days', ends_at = now() - interval '7 days' + interval"
            " '3 hours', published_at = now() - interval '37 days', sales_start_at = NULL, sales_end_at = NULL,"
            " version = version + 1, updated_at = now() WHERE id = :id",
            id=event.id,
        )


def _user_id(email: str) -> UUID:
    with transaction() as tx:
        user = users_repo.find_by_email(tx, email)
    assert user is not None, f"demo account {email} is missing"
    return UUID(str(user["id"]))
