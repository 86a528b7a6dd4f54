"""Demo data for `make run`: loading it twice changes nothing."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from uuid import UUID

from ticketing.auth.passwords import hash_password
from ticketing.auth.principal import Principal, Role
from ticketing.catalog.events import service as events_service
from ticketing.catalog.events.models import EventCreate
from ticketing.catalog.venues import service as venues_service
from ticketing.catalog.venues.models import SectionCreate, VenueCreate
from ticketing.db import transaction
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
DEMO_SECTIONS = (("Floor", 20, 30, 6900), ("Lower Tier", 15, 40, 4900), ("Balcony", 8, 25, 2900))
DEMO_EVENT_TITLE = "Demo Night"


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
    """Demo Arena and one PUBLISHED event on sale, found by their names so a second run adds nothing."""
    admin = Principal(user_id=_user_id("admin@example.com"), role=Role.ADMIN)
    organizer = Principal(user_id=_user_id("organizer@example.com"), role=Role.ORGANIZER)
    found = venues_service.list_venues(city=DEMO_VENUE.city, q=DEMO_VENUE.name, page=1, page_size=100, offset=0)
    venue = next((item for item in found.items if item.name == DEMO_VENUE.name), None)
    if venue is None:
        venue = venues_service.create_venue(DEMO_VENUE)
    existing = {section.name for section in venue.sections}
    for name, rows, seats_per_row, price in DEMO_SECTIONS:
        if name not in existing:
            venues_service.add_section(
                venue.id, SectionCreate(name=name, rows=rows, seats_per_row=seats_per_row, default_price=price)
            )
    events = events_service.list_events(
        admin,
        q=DEMO_EVENT_TITLE,
        category=None,
        city=None,
        venue_id=venue.id,
        starts_from=None,
        starts_to=None,
        status=None,
        descending=False,
        page=1,
        page_size=1,
        offset=0,
    )
    if events.items:
        return
    starts_at = (datetime.now(UTC) + timedelta(days=30)).replace(hour=19, minute=30, second=0, microsecond=0)
    event = events_service.create_event(
        organizer,
        EventCreate(
            venue_id=venue.id,
            title=DEMO_EVENT_TITLE,
            description="A demo concert, on sale from the moment it is loaded.",
            category="CONCERT",
            starts_at=starts_at,
            ends_at=starts_at + timedelta(hours=3),
            currency="EUR",
        ),
    )
    events_service.publish_event(organizer, event.id)


def _user_id(email: str) -> UUID:
    with transaction() as tx:
        user = users_repo.find_by_email(tx, email)
    assert user is not None, f"demo account {email} is missing"
    return UUID(str(user["id"]))
