"""Input the edge refuses before anything runs: each class is a 4xx with the error envelope, nothing changes.

The classes are listed in docs/api-errors.md; every test checks the answer and that no row was written.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
REGISTER = "/api/auth/register"
LOGIN = "/api/auth/login"
JSON = {"Content-Type": "application/json"}


def _registration(**overrides: Any) -> dict[str, Any]:
    return {"email": "new@example.com", "password": "long-enough-1", "name": "New User"} | overrides


def _users(db: Any) -> int:
    return int(db.value("SELECT count(*) FROM users"))


@pytest.mark.parametrize(
    "raw",
    [b'{"email": "\xff\xfe@example.com", "password": "long-enough-1", "name": "A"}', b"\xc3\x28", b"\x80"],
    ids=["latin-1 byte in a string", "broken two-byte sequence", "lone continuation byte"],
)
def test_a_body_that_is_not_utf8_is_invalid_json(api: Any, db: Any, raw: bytes) -> None:
    response = api.post(REGISTER, body=raw, headers=JSON)

    assert response.status == 400
    assert response.error_code == "INVALID_JSON"
    assert _users(db) == 0


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_non_finite_numbers_are_invalid_json(api: Any, accounts: Any, db: Any, constant: str) -> None:
    account = accounts.create()
    before = db.value("SELECT count(*) FROM reviews")

    response = api.post(
        "/api/events/00000000-0000-0000-0000-000000000001/reviews",
        body=f'{{"rating": {constant}}}'.encode(),
        headers=JSON,
        token=account.token,
    )

    assert response.status == 400
    assert response.error_code == "INVALID_JSON"
    assert db.value("SELECT count(*) FROM reviews") == before


@pytest.mark.parametrize("depth", [33, 50_000])
def test_nesting_beyond_the_limit_is_invalid_json(api: Any, db: Any, depth: int) -> None:
    nested = b"[" * depth + b"]" * depth

    response = api.post(REGISTER, body=b'{"email": ' + nested + b"}", headers=JSON)

    assert response.status == 400
    assert response.error_code == "INVALID_JSON"
    assert "nested" in response.json()["error"]["message"]
    assert _users(db) == 0


def test_nesting_within_the_limit_reaches_validation(api: Any, db: Any) -> None:
    nested = "[" * 30 + "]" * 30

    response = api.post(REGISTER, body=f'{{"email": {nested}}}'.encode(), headers=JSON)

    assert response.status == 422
    assert response.error_code == "VALIDATION_ERROR"


@pytest.mark.parametrize(
    "content_type",
    [
        "Application/JSON",
        "application/json; charset=UTF-8",
        "APPLICATION/JSON;charset=utf-8",
        "application/vnd.api+json",
    ],
)
def test_every_spelling_of_json_is_json(api: Any, db: Any, content_type: str) -> None:
    response = api.post(REGISTER, body=json.dumps(_registration()).encode(), headers={"Content-Type": content_type})

    assert response.status == 201, response.body
    assert _users(db) == 1


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "text/json", "image/png"])
def test_other_media_types_are_415(api: Any, db: Any, content_type: str) -> None:
    response = api.post(REGISTER, body=json.dumps(_registration()).encode(), headers={"Content-Type": content_type})

    assert response.status == 415
    assert response.error_code == "UNSUPPORTED_MEDIA_TYPE"
    assert _users(db) == 0


@pytest.mark.parametrize("field", ["email", "password", "name"])
def test_a_nul_character_in_a_body_string_is_422_naming_the_field(api: Any, db: Any, field: str) -> None:
    body = _registration(**{field: "nul\u0000inside-it"})

    response = api.post(REGISTER, json=body)

    assert response.status == 422
    assert response.error_code == "VALIDATION_ERROR"
    assert response.json()["error"]["details"]["fields"] == [
        {"field": field, "message": "NUL characters are not allowed."}
    ]
    assert _users(db) == 0


def test_a_nul_character_in_a_key_is_422(api: Any, db: Any) -> None:
    response = api.post(REGISTER, json={**_registration(), "bad\u0000key": 1})

    assert response.status == 422
    assert _users(db) == 0


@pytest.mark.parametrize("query", [{"city": "Ber\u0000lin"}, {"q": "\u0000"}])
def test_a_nul_character_in_a_query_parameter_is_422(api: Any, db: Any, query: dict[str, str]) -> None:
    response = api.get("/api/venues", query=query)

    assert response.status == 422
    assert response.error_code == "VALIDATION_ERROR"
    assert response.json()["error"]["details"]["fields"][0]["field"] == next(iter(query))


@pytest.mark.parametrize("page", ["0.5", "1.0", "1_0", " 2", "٣", "99999999999999999999999", "-1", "0", "1e3"])
def test_a_page_must_be_a_plain_integer_in_range(api: Any, db: Any, page: str) -> None:
    response = api.get("/api/venues", query={"page": page})

    assert response.status == 422
    assert response.json()["error"]["details"]["fields"][0]["field"] == "page"


def test_a_plain_page_number_works(api: Any, db: Any) -> None:
    response = api.get("/api/venues", query={"page": "2", "pageSize": "100"})

    assert response.status == 200
    assert response.json()["page"] == 2


@pytest.mark.parametrize("rating", ["5", 5.0, True, 2**64, -(2**63) - 1])
def test_numbers_in_bodies_are_strict_and_bounded(api: Any, accounts: Any, db: Any, rating: Any) -> None:
    account = accounts.create()

    response = api.post(
        "/api/events/00000000-0000-0000-0000-000000000001/reviews", json={"rating": rating}, token=account.token
    )

    assert response.status == 422
    assert response.json()["error"]["details"]["fields"][0]["field"] == "rating"


@pytest.mark.parametrize(
    "query",
    [{"from": "9999-12-31T23:59:59-14:00"}, {"to": "0001-01-01T00:00:00+14:00"}, {"from": "1969-12-31T23:59:59Z"}],
)
def test_dates_out_of_range_are_422(api: Any, db: Any, query: dict[str, str]) -> None:
    response = api.get("/api/events", query=query)

    assert response.status == 422
    assert response.json()["error"]["details"]["fields"][0]["field"] == next(iter(query))


def test_a_coupon_valid_from_year_one_is_422(api: Any, accounts: Any, db: Any) -> None:
    admin = accounts.create("ADMIN")

    response = api.post(
        "/api/coupons",
        json={"code": "YEARONE", "type": "PERCENT", "value": 10, "validFrom": "0001-01-01T00:00:00+01:00"},
        token=admin.token,
    )

    assert response.status == 422
    assert response.json()["error"]["details"]["fields"][0]["field"] == "validFrom"
    assert db.value("SELECT count(*) FROM coupons") == 0


def test_validation_answers_list_at_most_20_fields_and_count_the_rest(api: Any, db: Any) -> None:
    unknown = {f"u{index}": 0 for index in range(200)}

    response = api.post(REGISTER, json=_registration() | unknown)

    assert response.status == 422
    details = response.json()["error"]["details"]
    assert len(details["fields"]) == 20
    assert details["omittedFields"] == 200 - 20
    assert _users(db) == 0


def test_a_flood_of_unknown_keys_is_refused_before_validation(api: Any, db: Any) -> None:
    flood = _registration() | {f"u{index}": 0 for index in range(60_000)}

    response = api.post(REGISTER, json=flood)

    assert response.status == 422
    assert response.json()["error"]["details"] == {
        "fields": [{"field": "body", "message": "At most 256 fields per object."}]
    }
    assert _users(db) == 0


def test_a_long_unknown_key_is_not_echoed_in_full(api: Any, db: Any) -> None:
    response = api.post(REGISTER, json=_registration() | {"k" * 100_000: 1})

    assert response.status == 422
    assert len(response.body) < 1024


def test_a_base64_encoded_body_that_is_not_utf8_is_invalid_json(in_process_api: Any, db: Any) -> None:
    # With BinaryMediaTypes */* API Gateway hands every body over base64-encoded; the event says so.
    from devtools.server import invoke

    function = next(f for f in in_process_api.app.functions if f.logical_id == "AuthFunction")
    event = json.loads((REPO_ROOT / "events" / "auth_register.json").read_text())
    event |= {"body": base64.b64encode(b'{"email": "\xff"}').decode(), "isBase64Encoded": True}

    result = invoke(function, event, function.timeout)

    assert result["statusCode"] == 400
    assert json.loads(result["body"])["error"]["code"] == "INVALID_JSON"
    assert _users(db) == 0


def test_a_password_longer_than_72_bytes_never_logs_in(api: Any, accounts: Any) -> None:
    password = "p" * 72
    account = accounts.create(password=password)

    longer = api.post(LOGIN, json={"email": account.email, "password": password + "anything"})
    exact = api.post(LOGIN, json={"email": account.email, "password": password})

    assert longer.status == 401
    assert longer.error_code == "INVALID_CREDENTIALS"
    assert exact.status == 200


def test_no_error_answer_carries_a_stack_trace(api: Any, db: Any) -> None:
    response = api.post(REGISTER, body=b"[" * 50_000, headers=JSON)

    assert "Traceback" not in response.body.decode()
    assert set(response.json()) == {"error"}


def test_over_http_a_body_that_is_not_utf8_is_invalid_json(http_api: Any, db: Any) -> None:
    response = http_api.post(REGISTER, body=b'{"email": "\xff"}', headers=JSON)

    assert response.status == 400
    assert response.error_code == "INVALID_JSON"
    assert _users(db) == 0


def test_over_http_a_structured_json_type_is_json(http_api: Any, db: Any) -> None:
    response = http_api.post(
        REGISTER, body=json.dumps(_registration()).encode(), headers={"Content-Type": "Application/Merge-Patch+JSON"}
    )

    assert response.status == 201, response.body
    assert _users(db) == 1


def test_over_http_a_nul_in_the_query_string_is_422(http_api: Any, db: Any) -> None:
    response = http_api.get("/api/events", query={"q": "a\u0000b", "page": "1"})

    assert response.status == 422
    assert response.json()["error"]["details"]["fields"][0]["field"] == "q"


def test_over_http_deep_nesting_is_invalid_json(http_api: Any, db: Any) -> None:
    response = http_api.post(REGISTER, body=b"[" * 50_000 + b"]" * 50_000, headers=JSON)

    assert response.status == 400
    assert response.error_code == "INVALID_JSON"


def test_an_escaped_backslash_before_u0000_is_not_a_nul(api: Any, db: Any) -> None:
    # The JSON text \\u0000 is a backslash followed by "u0000": a legal password, not a NUL character.
    body = json.dumps(_registration(password="secret\\u0000secret")).encode()

    response = api.post(REGISTER, body=body, headers=JSON)

    assert response.status == 201, response.body
    assert _users(db) == 1


@pytest.mark.parametrize("content_type", ["Application/JSON", "text/plain", "application/problem+json"])
def test_an_empty_body_with_any_content_type_is_a_missing_body(api: Any, db: Any, content_type: str) -> None:
    response = api.post(LOGIN, body=b"", headers={"Content-Type": content_type})

    assert response.status == 422
    assert response.json()["error"]["details"]["fields"] == [{"field": "body", "message": "This field is required."}]
