"""Limits on the calls bots hammer (ticketing.rate_limits; docs/security.md, "Rate limits"), kept in moto's DynamoDB
server. The limiter's clock is pinned, so no test depends on where a real minute boundary falls."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest

HOLD = "/api/bookings/hold-seats"
ADDRESS_HEADER = "CloudFront-Viewer-Address"
MOMENT = 1_800_000_010.0  # ten seconds into a window: Retry-After is the fifty seconds left


class Limits:
    """Turns the limits on for one test, pins their clock, and records the metrics they count."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        from ticketing import rate_limits
        from ticketing.config import get_settings

        self._monkeypatch = monkeypatch
        self._settings = get_settings
        self.metrics: list[str] = []
        self.clock = MOMENT
        monkeypatch.setattr(rate_limits, "now", lambda: self.clock)
        monkeypatch.setattr(rate_limits, "count", lambda name, value=1: self.metrics.append(name))
        monkeypatch.setenv("CLIENT_ADDRESS_HEADER", ADDRESS_HEADER)

    def set(self, **variables: int) -> None:
        for name, value in variables.items():
            self._monkeypatch.setenv(name, str(value))
        self._settings.cache_clear()


def _forget_every_limit() -> None:
    """Deletes the limits' items, so each test starts with fresh counts (the table lives for the session)."""
    from ticketing.aws_clients import aws_client
    from ticketing.config import get_settings

    client, table = aws_client("dynamodb"), get_settings().waiting_room_table
    found = client.scan(
        TableName=table,
        FilterExpression="begins_with(pk, :limit)",
        ExpressionAttributeValues={":limit": {"S": "LIMIT#"}},
    )
    for item in found["Items"]:
        client.delete_item(TableName=table, Key={"pk": item["pk"], "sk": item["sk"]})


@pytest.fixture
def limits(dynamodb: str, fresh_settings: pytest.MonkeyPatch) -> Iterator[Limits]:
    from ticketing.aws_clients import forget_clients

    forget_clients()
    _forget_every_limit()
    yield Limits(fresh_settings)
    forget_clients()


def _from(address: str) -> dict[str, str]:
    return {ADDRESS_HEADER: f"{address}:51234"}


def _assert_rate_limited(response: Any) -> None:
    assert response.status == 429, response.body
    assert response.json()["error"]["code"] == "RATE_LIMITED"
    assert response.header("Retry-After") == "50"


def test_an_account_past_its_buying_limit_is_refused_with_retry_after_and_nothing_held(
    limits: Limits, api: Any, accounts: Any, catalog: Any, db: Any
) -> None:
    # Given an account that made its two buying calls of the minute
    limits.set(RATE_LIMIT_ACCOUNT_PER_MINUTE=2)
    event = catalog.event()
    buyer = accounts.create()
    for seat in event.seat_ids[:2]:
        held = api.post(HOLD, json={"eventId": event.id, "seatIds": [seat]}, token=buyer.token)
        assert held.status == 200, held.body
    # When it asks for a third seat in the same minute
    refused = api.post(HOLD, json={"eventId": event.id, "seatIds": [event.seat_ids[2]]}, token=buyer.token)
    # Then it is refused with the envelope, the seconds left in the window and a metric, and holds only two seats
    _assert_rate_limited(refused)
    assert refused.json()["error"]["details"] == {"limit": 2, "per": "account"}
    assert limits.metrics == ["RateLimited"]
    assert db.value("SELECT count(*) FROM event_seats WHERE held_by = :user", user=buyer.id) == 2


def test_another_account_and_the_next_minute_are_served(limits: Limits, api: Any, accounts: Any, catalog: Any) -> None:
    # Given an account that used up its single buying call of the minute
    limits.set(RATE_LIMIT_ACCOUNT_PER_MINUTE=1)
    event = catalog.event()
    first, second = accounts.create(), accounts.create()
    assert api.post(HOLD, json={"eventId": event.id, "seatIds": [event.seat_ids[0]]}, token=first.token).status == 200
    # When another account buys in the same minute, and the first one in the next minute
    other = api.post(HOLD, json={"eventId": event.id, "seatIds": [event.seat_ids[1]]}, token=second.token)
    limits.clock += 60
    later = api.post(HOLD, json={"eventId": event.id, "seatIds": [event.seat_ids[2]]}, token=first.token)
    # Then both are served
    assert (other.status, later.status) == (200, 200), (other.body, later.body)


def test_hold_best_and_queue_join_share_the_account_budget(
    limits: Limits, api: Any, accounts: Any, catalog: Any
) -> None:
    # Given an account that held its best seats once, with a budget of two buying calls
    limits.set(RATE_LIMIT_ACCOUNT_PER_MINUTE=2)
    event = catalog.event()
    buyer = accounts.create()
    best = api.post("/api/bookings/hold-best", json={"eventId": event.id, "quantity": 1}, token=buyer.token)
    assert best.status == 200, best.body
    # When it joins a queue twice (the event has no room: the first join is counted, then answered 409)
    first_join = api.post(f"/api/events/{event.id}/queue", token=buyer.token)
    second_join = api.post(f"/api/events/{event.id}/queue", token=buyer.token)
    # Then the second join is past the budget
    assert first_join.status == 409, first_join.body
    _assert_rate_limited(second_join)


def test_register_login_and_refresh_share_the_address_budget(limits: Limits, api: Any, db: Any) -> None:
    # Given an address limit of three calls a minute, and a registration and a login from one address
    limits.set(RATE_LIMIT_ADDRESS_PER_MINUTE=3)
    credentials = {"email": "ada@example.com", "password": "correct-horse-9"}
    registered = api.post("/api/auth/register", json={**credentials, "name": "Ada"}, headers=_from("198.51.100.7"))
    assert registered.status == 201, registered.body
    session = api.post("/api/auth/login", json=credentials, headers=_from("198.51.100.7"))
    assert session.status == 200, session.body
    refreshed = api.post(
        "/api/auth/refresh-token", json={"refreshToken": session.json()["refreshToken"]}, headers=_from("198.51.100.7")
    )
    assert refreshed.status == 200, refreshed.body
    # When the same address registers again, and another address does
    refused = api.post(
        "/api/auth/register",
        json={"email": "bot@example.com", "password": "correct-horse-9", "name": "Bot"},
        headers=_from("198.51.100.7"),
    )
    elsewhere = api.post(
        "/api/auth/register",
        json={"email": "grace@example.com", "password": "correct-horse-9", "name": "Grace"},
        headers=_from("203.0.113.9"),
    )
    # Then the first is refused and creates no account; the second is served
    _assert_rate_limited(refused)
    assert refused.json()["error"]["details"] == {"limit": 3, "per": "address"}
    assert db.value("SELECT count(*) FROM users WHERE email = 'bot@example.com'") == 0
    assert elsewhere.status == 201, elsewhere.body


def test_ipv6_addresses_of_one_network_share_a_budget(limits: Limits, api: Any) -> None:
    # Given a /64 that registered once with a budget of one
    limits.set(RATE_LIMIT_ADDRESS_PER_MINUTE=1)
    body = {"password": "correct-horse-9", "name": "Ada"}
    first = api.post("/api/auth/register", json={**body, "email": "a@example.com"}, headers=_from("[2001:db8:1:2::1]"))
    assert first.status == 201, first.body
    # When another address of the same /64 registers
    second = api.post(
        "/api/auth/register", json={**body, "email": "b@example.com"}, headers=_from("[2001:db8:1:2:ffff::9]")
    )
    # Then it counts against the same budget
    _assert_rate_limited(second)


class Logins:
    def __init__(self, api: Any, email: str) -> None:
        self._api = api
        self.email = email

    def attempt(self, password: str, address: str) -> Any:
        return self._api.post(
            "/api/auth/login", json={"email": self.email, "password": password}, headers=_from(address)
        )


@pytest.fixture
def logins(limits: Limits, api: Any, accounts: Any) -> Logins:
    account = accounts.create(email="victim@example.com", password="correct-horse-9")
    assert account.email == "victim@example.com"
    return Logins(api, account.email)


def _fail(logins: Logins, times: int, address: str) -> None:
    for _ in range(times):
        wrong = logins.attempt("wrong-password", address)
        assert wrong.status == 401, wrong.body


def test_wrong_passwords_in_a_row_slow_that_address_down_even_for_the_right_password(
    limits: Limits, logins: Logins
) -> None:
    # Given three wrong passwords in a row from one address, with a delay after three
    limits.set(LOGIN_FAILURES_BEFORE_DELAY=3)
    _fail(logins, 3, "198.51.100.66")
    # When that address tries again at once, with the right password
    delayed = logins.attempt("correct-horse-9", "198.51.100.66")
    # Then it must wait a second first (the password is not even checked), and a metric says so
    assert delayed.status == 429, delayed.body
    assert delayed.json()["error"]["code"] == "RATE_LIMITED"
    assert delayed.header("Retry-After") == "1"
    assert limits.metrics == ["LoginsDelayed"]


def test_the_real_user_elsewhere_is_not_locked_out(limits: Limits, logins: Logins) -> None:
    # Given an attacker's address that is being slowed down for this account
    limits.set(LOGIN_FAILURES_BEFORE_DELAY=3)
    _fail(logins, 3, "198.51.100.66")
    assert logins.attempt("correct-horse-9", "198.51.100.66").status == 429
    # When the account's owner signs in from their own address
    owner = logins.attempt("correct-horse-9", "203.0.113.20")
    # Then they are in
    assert owner.status == 200, owner.body


def test_the_delay_doubles_with_each_further_failure_and_a_success_clears_it(
    limits: Limits, logins: Logins, dynamodb: str
) -> None:
    # Given an address past the threshold that waited out its delay and failed again
    limits.set(LOGIN_FAILURES_BEFORE_DELAY=3)
    _fail(logins, 3, "198.51.100.66")
    limits.clock += 1
    _fail(logins, 1, "198.51.100.66")
    # When it tries at once
    delayed = logins.attempt("correct-horse-9", "198.51.100.66")
    # Then it waits two seconds now; once they pass, the right password works and the count is gone
    assert delayed.status == 429, delayed.body
    assert delayed.header("Retry-After") == "2"
    limits.clock += 2
    assert logins.attempt("correct-horse-9", "198.51.100.66").status == 200
    assert logins.attempt("wrong-password", "198.51.100.66").status == 401
    assert logins.attempt("correct-horse-9", "198.51.100.66").status == 200


@pytest.mark.parametrize(("failures", "delay"), [(2, 0), (3, 1), (4, 2), (5, 4), (12, 512), (13, 900), (60, 900)])
def test_the_login_delay_is_exponential_and_capped_at_fifteen_minutes(failures: int, delay: int) -> None:
    from ticketing.rate_limits import login_delay_seconds

    assert login_delay_seconds(failures, threshold=3) == delay


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_when_the_limit_store_is_down_calls_are_allowed_and_counted(
    limits: Limits, api: Any, accounts: Any, catalog: Any, db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a budget of one buying call, and a limit store nobody answers
    event = catalog.event()
    buyer = accounts.create()
    limits.set(RATE_LIMIT_ACCOUNT_PER_MINUTE=1)
    from ticketing.aws_clients import forget_clients

    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", f"http://127.0.0.1:{_closed_port()}")
    forget_clients()
    # When the account makes two buying calls
    holds: list[Callable[[], Any]] = [
        lambda seat=seat: api.post(HOLD, json={"eventId": event.id, "seatIds": [seat]}, token=buyer.token)
        for seat in event.seat_ids[:2]
    ]
    answers = [hold() for hold in holds]
    # Then both are served (fail open), each counted as a store error
    assert [answer.status for answer in answers] == [200, 200], [answer.body for answer in answers]
    assert limits.metrics == ["RateLimitStoreErrors", "RateLimitStoreErrors"]
    assert db.value("SELECT count(*) FROM event_seats WHERE held_by = :user", user=buyer.id) == 2
