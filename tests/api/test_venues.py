"""Venues (docs/api.md): browse, create and update venues; add sections with their seats."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

VENUES = "/api/venues"

HALL = {
    "name": "Philharmonie",
    "address": "Herbert-von-Karajan-Str. 1",
    "city": "Berlin",
    "country": "DE",
    "timezone": "Europe/Berlin",
}


def _create_venue(api: Any, admin: Any, **overrides: Any) -> dict[str, Any]:
    response = api.post(VENUES, json={**HALL, **overrides}, token=admin.token)
    assert response.status == 201, response.body
    return response.json()


def _add_section(api: Any, admin: Any, venue_id: str, **body: Any) -> Any:
    return api.post(f"{VENUES}/{venue_id}/sections", json=body, token=admin.token)


def _field_names(response: Any) -> list[str]:
    return [problem["field"] for problem in response.json()["error"]["details"]["fields"]]


# --- create ---------------------------------------------------------------------------------------------------


def test_admin_creates_a_venue(api: Any, accounts: Any, db: Any) -> None:
    admin = accounts.create("ADMIN")

    response = api.post(VENUES, json=HALL, token=admin.token)

    assert response.status == 201
    body = response.json()
    assert {key: body[key] for key in HALL} == HALL
    assert body["sections"] == []
    assert body["capacity"] == 0
    stored = db.rows("SELECT id, name, city, country, timezone FROM venues")
    assert len(stored) == 1
    assert str(stored[0]["id"]) == body["id"]
    assert stored[0]["timezone"] == "Europe/Berlin"


def test_creating_a_venue_needs_a_token(api: Any, db: Any) -> None:
    response = api.post(VENUES, json=HALL)

    assert response.status == 401
    assert response.error_code == "UNAUTHORIZED"
    assert db.value("SELECT count(*) FROM venues") == 0


@pytest.mark.parametrize("role", ["USER", "ORGANIZER"])
def test_only_admins_create_venues(api: Any, accounts: Any, db: Any, role: str) -> None:
    caller = accounts.create(role)

    response = api.post(VENUES, json=HALL, token=caller.token)

    assert response.status == 403
    assert response.error_code == "FORBIDDEN"
    assert db.value("SELECT count(*) FROM venues") == 0


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("country", "de"),
        ("country", "DEU"),
        ("timezone", "Mars/Olympus_Mons"),
        ("timezone", "not a zone"),
        ("name", ""),
        ("city", 42),
    ],
)
def test_venue_fields_are_validated(api: Any, accounts: Any, db: Any, field: str, value: Any) -> None:
    admin = accounts.create("ADMIN")

    response = api.post(VENUES, json={**HALL, field: value}, token=admin.token)

    assert response.status == 422
    assert response.error_code == "VALIDATION_ERROR"
    assert _field_names(response) == [field]
    assert db.value("SELECT count(*) FROM venues") == 0


def test_a_venue_with_an_unknown_field_is_refused(api: Any, accounts: Any, db: Any) -> None:
    admin = accounts.create("ADMIN")

    response = api.post(VENUES, json={**HALL, "capacity": 10}, token=admin.token)

    assert response.status == 422
    assert response.json()["error"]["details"]["fields"] == [{"field": "capacity", "message": "Unknown field."}]
    assert db.value("SELECT count(*) FROM venues") == 0


def test_a_venue_body_that_is_not_json_is_a_400(api: Any, accounts: Any, db: Any) -> None:
    admin = accounts.create("ADMIN")

    response = api.post(VENUES, body=b"{name:", token=admin.token, headers={"Content-Type": "application/json"})

    assert response.status == 400
    assert response.error_code == "INVALID_JSON"
    assert db.value("SELECT count(*) FROM venues") == 0


# --- update ---------------------------------------------------------------------------------------------------


def test_admin_updates_some_fields_of_a_venue(api: Any, accounts: Any, db: Any) -> None:
    admin = accounts.create("ADMIN")
    venue = _create_venue(api, admin)

    response = api.put(
        f"{VENUES}/{venue['id']}", json={"name": "Kammermusiksaal", "timezone": "UTC"}, token=admin.token
    )

    assert response.status == 200
    body = response.json()
    assert body["name"] == "Kammermusiksaal"
    assert body["timezone"] == "UTC"
    assert body["city"] == "Berlin"
    stored = db.rows("SELECT name, timezone, address FROM venues")
    assert stored == [{"name": "Kammermusiksaal", "timezone": "UTC", "address": HALL["address"]}]


def test_venue_fields_cannot_be_cleared(api: Any, accounts: Any, db: Any) -> None:
    admin = accounts.create("ADMIN")
    venue = _create_venue(api, admin)

    response = api.put(f"{VENUES}/{venue['id']}", json={"city": None}, token=admin.token)

    assert response.status == 422
    assert _field_names(response) == ["city"]
    assert db.value("SELECT city FROM venues") == "Berlin"


def test_updating_an_unknown_venue_is_a_404(api: Any, accounts: Any) -> None:
    admin = accounts.create("ADMIN")

    response = api.put(f"{VENUES}/{uuid.uuid4()}", json={"name": "Nowhere"}, token=admin.token)

    assert response.status == 404
    assert response.error_code == "NOT_FOUND"


def test_organizers_cannot_update_venues(api: Any, accounts: Any, db: Any) -> None:
    venue = _create_venue(api, accounts.create("ADMIN"))
    organizer = accounts.create("ORGANIZER")

    response = api.put(f"{VENUES}/{venue['id']}", json={"name": "Mine now"}, token=organizer.token)

    assert response.status == 403
    assert db.value("SELECT name FROM venues") == HALL["name"]


def test_updating_a_venue_anonymously_is_a_401(api: Any, accounts: Any, db: Any) -> None:
    venue = _create_venue(api, accounts.create("ADMIN"))

    response = api.put(f"{VENUES}/{venue['id']}", json={"name": "Mine now"})

    assert response.status == 401
    assert db.value("SELECT name FROM venues") == HALL["name"]


# --- sections -------------------------------------------------------------------------------------------------


def test_adding_a_section_creates_its_seats(api: Any, accounts: Any, db: Any) -> None:
    admin = accounts.create("ADMIN")
    venue = _create_venue(api, admin)

    response = _add_section(api, admin, venue["id"], name="Stalls", rows=3, seatsPerRow=4, defaultPrice=4500)

    assert response.status == 201
    section = response.json()
    assert section["name"] == "Stalls"
    assert section["rows"] == 3
    assert section["seatsPerRow"] == 4
    assert section["seatCount"] == 12
    assert section["defaultPrice"] == 4500
    seats = db.rows(
        "SELECT row_index, row_label, number FROM venue_seats WHERE section_id = :id ORDER BY row_index, number",
        id=section["id"],
    )
    assert [(seat["row_label"], seat["number"]) for seat in seats] == [
        (label, number) for label in "ABC" for number in range(1, 5)
    ]


def test_row_labels_continue_past_z_with_double_letters(api: Any, accounts: Any, db: Any) -> None:
    admin = accounts.create("ADMIN")
    venue = _create_venue(api, admin)

    section = _add_section(api, admin, venue["id"], name="Balcony", rows=28, seatsPerRow=1).json()

    labels = [
        row["row_label"]
        for row in db.rows(
            "SELECT row_label FROM venue_seats WHERE section_id = :id ORDER BY row_index", id=section["id"]
        )
    ]
    assert labels[:3] == ["A", "B", "C"]
    assert labels[25:] == ["Z", "AA", "AB"]


def test_row_labels_are_bijective_base_26(db: Any) -> None:
    labels = db.rows(
        "SELECT seat_row_label(n) AS label FROM unnest(ARRAY[1, 26, 27, 52, 53, 500, 702, 703]) AS n ORDER BY n"
    )

    assert [row["label"] for row in labels] == ["A", "Z", "AA", "AZ", "BA", "SF", "ZZ", "AAA"]


def test_a_section_without_a_default_price_is_allowed(api: Any, accounts: Any, db: Any) -> None:
    admin = accounts.create("ADMIN")
    venue = _create_venue(api, admin)

    response = _add_section(api, admin, venue["id"], name="Box", rows=1, seatsPerRow=2)

    assert response.status == 201
    assert response.json()["defaultPrice"] is None
    assert db.value("SELECT default_price FROM sections") is None


def test_section_names_are_unique_in_a_venue_ignoring_case(api: Any, accounts: Any, db: Any) -> None:
    admin = accounts.create("ADMIN")
    venue = _create_venue(api, admin)
    _add_section(api, admin, venue["id"], name="Stalls", rows=2, seatsPerRow=2)

    response = _add_section(api, admin, venue["id"], name="STALLS", rows=5, seatsPerRow=5)

    assert response.status == 409
    assert response.error_code == "SECTION_NAME_TAKEN"
    assert db.value("SELECT count(*) FROM sections") == 1
    assert db.value("SELECT count(*) FROM venue_seats") == 4


def test_the_same_section_name_may_exist_in_another_venue(api: Any, accounts: Any, db: Any) -> None:
    admin = accounts.create("ADMIN")
    first = _create_venue(api, admin)
    second = _create_venue(api, admin, name="Konzerthaus")
    assert _add_section(api, admin, first["id"], name="Stalls", rows=1, seatsPerRow=1).status == 201

    response = _add_section(api, admin, second["id"], name="Stalls", rows=1, seatsPerRow=1)

    assert response.status == 201
    assert response.json()["name"] == "Stalls"
    assert db.value("SELECT count(DISTINCT venue_id) FROM sections WHERE name = 'Stalls'") == 2


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"rows": 0, "seatsPerRow": 10}, "rows"),
        ({"rows": 501, "seatsPerRow": 10}, "rows"),
        ({"rows": 10, "seatsPerRow": 0}, "seatsPerRow"),
        ({"rows": 10, "seatsPerRow": 501}, "seatsPerRow"),
        ({"rows": 10.5, "seatsPerRow": 10}, "rows"),
        ({"rows": "10", "seatsPerRow": 10}, "rows"),
        ({"rows": 10, "seatsPerRow": 10, "defaultPrice": -1}, "defaultPrice"),
        ({"rows": 10, "seatsPerRow": 10, "seats": 100}, "seats"),
    ],
)
def test_section_sizes_are_validated(api: Any, accounts: Any, db: Any, body: dict[str, Any], field: str) -> None:
    admin = accounts.create("ADMIN")
    venue = _create_venue(api, admin)

    response = _add_section(api, admin, venue["id"], name="Stalls", **body)

    assert response.status == 422
    assert field in _field_names(response)
    assert db.value("SELECT count(*) FROM sections") == 0


def test_adding_a_section_to_an_unknown_venue_is_a_404(api: Any, accounts: Any, db: Any) -> None:
    admin = accounts.create("ADMIN")

    response = _add_section(api, admin, str(uuid.uuid4()), name="Stalls", rows=1, seatsPerRow=1)

    assert response.status == 404
    assert db.value("SELECT count(*) FROM sections") == 0


def test_only_admins_add_sections(api: Any, accounts: Any, db: Any) -> None:
    venue = _create_venue(api, accounts.create("ADMIN"))
    organizer = accounts.create("ORGANIZER")

    response = _add_section(api, organizer, venue["id"], name="Stalls", rows=1, seatsPerRow=1)

    assert response.status == 403
    assert db.value("SELECT count(*) FROM sections") == 0


def test_a_stadium_section_of_100000_seats_takes_the_statements_of_a_one_seat_section(
    api: Any, accounts: Any, db: Any, statements: list[str]
) -> None:
    admin = accounts.create("ADMIN")
    venue = _create_venue(api, admin, name="Stadium")
    statements.clear()
    box = _add_section(api, admin, venue["id"], name="Box", rows=1, seatsPerRow=1, defaultPrice=9000)
    assert box.status == 201, box.body
    for_one_seat = len(statements)
    statements.clear()

    response = _add_section(api, admin, venue["id"], name="Bowl", rows=500, seatsPerRow=200, defaultPrice=5000)

    assert response.status == 201, response.body
    assert response.json()["seatCount"] == 100_000
    # Seats are written as one set, never one by one (bench/ measures the speed, not this test).
    assert len(statements) == for_one_seat
    assert db.value("SELECT count(*) FROM venue_seats") == 100_001
    last = db.rows(
        "SELECT row_label, number FROM venue_seats JOIN sections ON sections.id = section_id"
        " WHERE sections.name = 'Bowl' ORDER BY row_index DESC, number DESC LIMIT 1"
    )
    assert last == [{"row_label": "SF", "number": 200}]


# --- read -----------------------------------------------------------------------------------------------------


def test_anyone_reads_a_venue_with_its_sections_and_capacity(api: Any, accounts: Any) -> None:
    admin = accounts.create("ADMIN")
    venue = _create_venue(api, admin)
    stalls = _add_section(api, admin, venue["id"], name="Stalls", rows=10, seatsPerRow=20, defaultPrice=3000).json()
    balcony = _add_section(api, admin, venue["id"], name="Balcony", rows=2, seatsPerRow=15).json()

    response = api.get(f"{VENUES}/{venue['id']}")

    assert response.status == 200
    body = response.json()
    assert body["capacity"] == 230
    assert body["sections"] == [stalls, balcony]
    assert set(body) == {"id", "name", "address", "city", "country", "timezone", "sections", "capacity"}


def test_reading_an_unknown_venue_is_a_404(api: Any) -> None:
    response = api.get(f"{VENUES}/{uuid.uuid4()}")

    assert response.status == 404
    assert response.error_code == "NOT_FOUND"


def test_a_malformed_venue_id_is_a_422(api: Any) -> None:
    response = api.get(f"{VENUES}/not-a-uuid")

    assert response.status == 422
    assert response.error_code == "VALIDATION_ERROR"


def test_venues_are_listed_by_name_and_paged(api: Any, accounts: Any) -> None:
    admin = accounts.create("ADMIN")
    for name in ("Zenith", "Arena", "Olympia"):
        _create_venue(api, admin, name=name)

    first = api.get(VENUES, query={"page": 1, "pageSize": 2})
    second = api.get(VENUES, query={"page": 2, "pageSize": 2})

    assert first.status == 200
    assert [venue["name"] for venue in first.json()["items"]] == ["Arena", "Olympia"]
    assert {key: first.json()[key] for key in ("page", "pageSize", "total")} == {"page": 1, "pageSize": 2, "total": 3}
    assert [venue["name"] for venue in second.json()["items"]] == ["Zenith"]


def test_venues_are_filtered_by_city_and_text(api: Any, accounts: Any) -> None:
    admin = accounts.create("ADMIN")
    _create_venue(api, admin, name="Philharmonie")
    _create_venue(api, admin, name="Elbphilharmonie", city="Hamburg")
    _create_venue(api, admin, name="Olympiastadion")

    by_city = api.get(VENUES, query={"city": "hamburg"}).json()
    by_text = api.get(VENUES, query={"q": "PHIL"}).json()
    both = api.get(VENUES, query={"q": "phil", "city": "Berlin"}).json()

    assert [venue["name"] for venue in by_city["items"]] == ["Elbphilharmonie"]
    assert [venue["name"] for venue in by_text["items"]] == ["Elbphilharmonie", "Philharmonie"]
    assert by_text["total"] == 2
    assert [venue["name"] for venue in both["items"]] == ["Philharmonie"]


def test_listed_venues_carry_their_sections(api: Any, accounts: Any) -> None:
    admin = accounts.create("ADMIN")
    venue = _create_venue(api, admin)
    _add_section(api, admin, venue["id"], name="Stalls", rows=2, seatsPerRow=3)

    items = api.get(VENUES).json()["items"]

    assert [section["name"] for section in items[0]["sections"]] == ["Stalls"]
    assert items[0]["capacity"] == 6


@pytest.mark.parametrize("page_size", [0, 101, "many"])
def test_venue_page_size_must_be_1_to_100(api: Any, page_size: Any) -> None:
    response = api.get(VENUES, query={"pageSize": page_size})

    assert response.status == 422
    assert _field_names(response) == ["pageSize"]
