"""Coupons (docs/api.md): POST /api/coupons and GET /api/coupons."""

from __future__ import annotations

from typing import Any

import pytest

COUPONS = "/api/coupons"


def _create(api: Any, token: str, **fields: Any) -> Any:
    return api.post(COUPONS, json={"code": "SUMMER10", "type": "PERCENT", "value": 10, **fields}, token=token)


def _coupon_count(db: Any) -> int:
    return int(db.value("SELECT count(*) FROM coupons"))


def test_an_admin_creates_a_global_coupon(api: Any, db: Any, accounts: Any) -> None:
    admin = accounts.create("ADMIN")

    response = _create(
        api,
        admin.token,
        maxRedemptions=100,
        perUserLimit=1,
        validFrom="2026-06-01T00:00:00+02:00",
        validUntil="2026-09-01T00:00:00Z",
        minSubtotal=5000,
        currency="EUR",
    )

    assert response.status == 201, response.body
    body = response.json()
    assert set(body) == {
        "id",
        "code",
        "type",
        "value",
        "currency",
        "eventId",
        "maxRedemptions",
        "perUserLimit",
        "redeemedCount",
        "validFrom",
        "validUntil",
        "minSubtotal",
        "createdAt",
    }
    assert body["code"] == "SUMMER10"
    assert (body["type"], body["value"], body["currency"], body["eventId"]) == ("PERCENT", 10, "EUR", None)
    assert (body["maxRedemptions"], body["perUserLimit"], body["redeemedCount"]) == (100, 1, 0)
    assert (body["validFrom"], body["validUntil"]) == ("2026-05-31T22:00:00Z", "2026-09-01T00:00:00Z")
    assert body["minSubtotal"] == 5000
    assert body["createdAt"].endswith("Z")
    stored = db.rows("SELECT id, code, created_by FROM coupons")
    assert [(str(row["id"]), row["code"], str(row["created_by"])) for row in stored] == [
        (body["id"], "SUMMER10", admin.id)
    ]


def test_codes_are_stored_upper_case(api: Any, db: Any, accounts: Any) -> None:
    response = _create(api, accounts.create("ADMIN").token, code="  early-bird_2 ")

    assert response.status == 201, response.body
    assert response.json()["code"] == "EARLY-BIRD_2"
    assert db.value("SELECT code FROM coupons") == "EARLY-BIRD_2"


def test_a_code_taken_in_another_case_is_a_conflict(api: Any, db: Any, accounts: Any) -> None:
    admin = accounts.create("ADMIN")
    _create(api, admin.token, code="SUMMER10")

    response = _create(api, admin.token, code="summer10")

    assert response.status == 409
    assert response.error_code == "COUPON_CODE_TAKEN"
    assert _coupon_count(db) == 1


def test_an_organizer_creates_a_coupon_for_their_own_event(api: Any, db: Any, accounts: Any, catalog: Any) -> None:
    organizer = accounts.create("ORGANIZER")
    event = catalog.event(organizer_id=organizer.id, currency="GBP")

    response = _create(api, organizer.token, type="FIXED", value=500, eventId=event.id)

    assert response.status == 201, response.body
    body = response.json()
    assert (body["eventId"], body["currency"], body["value"]) == (event.id, "GBP", 500)
    assert db.value("SELECT currency FROM coupons WHERE event_id = :id", id=event.id) == "GBP"


def test_an_organizer_cannot_create_a_coupon_for_someone_elses_event(
    api: Any, db: Any, accounts: Any, catalog: Any
) -> None:
    organizer = accounts.create("ORGANIZER")
    event = catalog.event()

    response = _create(api, organizer.token, eventId=event.id)

    assert response.status == 403
    assert response.error_code == "FORBIDDEN"
    assert _coupon_count(db) == 0


def test_an_organizer_cannot_create_a_global_coupon(api: Any, db: Any, accounts: Any) -> None:
    response = _create(api, accounts.create("ORGANIZER").token)

    assert response.status == 403
    assert "eventId" in response.json()["error"]["message"]
    assert _coupon_count(db) == 0


def test_a_customer_cannot_create_coupons(api: Any, db: Any, accounts: Any) -> None:
    response = _create(api, accounts.create("USER").token)

    assert response.status == 403
    assert response.error_code == "FORBIDDEN"
    assert _coupon_count(db) == 0


def test_creating_a_coupon_needs_a_token(api: Any, db: Any) -> None:
    response = api.post(COUPONS, json={"code": "SUMMER10", "type": "PERCENT", "value": 10})

    assert response.status == 401
    assert response.error_code == "UNAUTHORIZED"
    assert _coupon_count(db) == 0


def test_a_coupon_for_an_unknown_event_is_refused(api: Any, db: Any, accounts: Any) -> None:
    response = _create(api, accounts.create("ADMIN").token, eventId="00000000-0000-4000-8000-000000000000")

    assert response.status == 422
    assert response.json()["error"]["details"]["fields"][0]["field"] == "eventId"
    assert _coupon_count(db) == 0


def test_a_fixed_coupon_without_any_currency_is_refused(api: Any, db: Any, accounts: Any) -> None:
    response = _create(api, accounts.create("ADMIN").token, type="FIXED", value=500)

    assert response.status == 422
    assert response.json()["error"]["details"]["fields"][0]["field"] == "currency"
    assert _coupon_count(db) == 0


def test_a_minimum_subtotal_without_any_currency_is_refused(api: Any, db: Any, accounts: Any) -> None:
    response = _create(api, accounts.create("ADMIN").token, minSubtotal=1000)

    assert response.status == 422
    assert response.json()["error"]["details"]["fields"][0]["field"] == "currency"
    assert _coupon_count(db) == 0


def test_a_currency_other_than_the_events_is_refused(api: Any, db: Any, accounts: Any, catalog: Any) -> None:
    event = catalog.event(currency="EUR")

    response = _create(api, accounts.create("ADMIN").token, type="FIXED", value=500, currency="USD", eventId=event.id)

    assert response.status == 422
    assert response.json()["error"]["details"]["fields"][0]["field"] == "currency"
    assert _coupon_count(db) == 0


@pytest.mark.parametrize(
    ("fields", "bad_field"),
    [
        ({"value": 0}, "value"),
        ({"value": 101}, "value"),
        ({"type": "BOGO"}, "type"),
        ({"code": "AB"}, "code"),
        ({"code": "NO SPACES"}, "code"),
        ({"code": "X" * 41}, "code"),
        ({"maxRedemptions": 0}, "maxRedemptions"),
        ({"perUserLimit": 0}, "perUserLimit"),
        ({"minSubtotal": -1}, "minSubtotal"),
        ({"currency": "eur"}, "currency"),
        ({"eventId": "not-a-uuid"}, "eventId"),
        ({"validFrom": "2026-06-01T00:00:00"}, "validFrom"),
        ({"validFrom": "2026-09-01T00:00:00Z", "validUntil": "2026-06-01T00:00:00Z"}, "validUntil"),
        ({"discount": 10}, "discount"),
    ],
    ids=lambda value: str(value)[:40],
)
def test_invalid_coupons_are_refused_naming_the_field(
    api: Any, db: Any, accounts: Any, fields: dict[str, Any], bad_field: str
) -> None:
    response = _create(api, accounts.create("ADMIN").token, **fields)

    assert response.status == 422
    assert response.error_code == "VALIDATION_ERROR"
    assert bad_field in [problem["field"] for problem in response.json()["error"]["details"]["fields"]]
    assert _coupon_count(db) == 0


def test_a_fixed_coupon_may_exceed_100(api: Any, accounts: Any) -> None:
    response = _create(api, accounts.create("ADMIN").token, type="FIXED", value=2500, currency="EUR")

    assert response.status == 201, response.body
    assert response.json()["value"] == 2500


def test_admins_list_every_coupon_newest_first(api: Any, accounts: Any, catalog: Any) -> None:
    admin = accounts.create("ADMIN")
    organizer = accounts.create("ORGANIZER")
    event = catalog.event(organizer_id=organizer.id)
    _create(api, organizer.token, code="FIRST", eventId=event.id)
    _create(api, admin.token, code="SECOND")

    response = api.get(COUPONS, token=admin.token)

    assert response.status == 200
    body = response.json()
    assert [item["code"] for item in body["items"]] == ["SECOND", "FIRST"]
    assert (body["page"], body["pageSize"], body["total"]) == (1, 20, 2)


def test_organizers_list_only_the_coupons_of_their_events(api: Any, accounts: Any, catalog: Any) -> None:
    admin = accounts.create("ADMIN")
    organizer = accounts.create("ORGANIZER")
    own_event = catalog.event(organizer_id=organizer.id)
    other_event = catalog.event()
    _create(api, organizer.token, code="MINE", eventId=own_event.id)
    _create(api, admin.token, code="ADMIN_FOR_MINE", eventId=own_event.id)
    _create(api, admin.token, code="OTHERS", eventId=other_event.id)
    _create(api, admin.token, code="GLOBAL")

    response = api.get(COUPONS, token=organizer.token)

    assert response.status == 200
    assert sorted(item["code"] for item in response.json()["items"]) == ["ADMIN_FOR_MINE", "MINE"]
    assert response.json()["total"] == 2


def test_the_list_filters_by_event_and_pages(api: Any, accounts: Any, catalog: Any) -> None:
    admin = accounts.create("ADMIN")
    event = catalog.event()
    for code in ("ONE", "TWO", "THREE"):
        _create(api, admin.token, code=code, eventId=event.id)
    _create(api, admin.token, code="GLOBAL")

    response = api.get(COUPONS, token=admin.token, query={"eventId": event.id, "page": 2, "pageSize": 2})

    assert response.status == 200
    body = response.json()
    assert [item["code"] for item in body["items"]] == ["ONE"]
    assert (body["page"], body["pageSize"], body["total"]) == (2, 2, 3)


def test_customers_cannot_list_coupons(api: Any, accounts: Any) -> None:
    response = api.get(COUPONS, token=accounts.create("USER").token)

    assert response.status == 403
    assert response.error_code == "FORBIDDEN"


@pytest.mark.parametrize(
    "query",
    [{"pageSize": 0}, {"pageSize": 101}, {"page": 0}, {"page": "x"}, {"eventId": "nope"}],
    ids=str,
)
def test_bad_list_parameters_are_a_validation_error(api: Any, accounts: Any, query: dict[str, Any]) -> None:
    response = api.get(COUPONS, token=accounts.create("ADMIN").token, query=query)

    assert response.status == 422
    assert response.error_code == "VALIDATION_ERROR"
