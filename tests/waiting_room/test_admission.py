"""The buying calls of an event with a room need an admission token, checked from the public key alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

HOLD = "/api/bookings/hold-seats"


def _hold(api: Any, account: Any, event: Any, token: str | None) -> Any:
    headers = {"X-Admission-Token": token} if token else None
    return api.post(
        HOLD, json={"eventId": event.id, "seatIds": event.seat_ids[:1]}, token=account.token, headers=headers
    )


def _held_seats(db: Any, event: Any) -> int:
    return int(db.value("SELECT count(*) FROM event_seats WHERE event_id = :id AND status <> 'AVAILABLE'", id=event.id))


def test_a_hold_without_a_token_is_403_admission_required_and_holds_nothing(
    rooms: Any, accounts: Any, api: Any, db: Any
) -> None:
    event = rooms.event()

    answer = _hold(api, accounts.create(), event, None)

    assert answer.status == 403
    assert answer.error_code == "ADMISSION_REQUIRED"
    assert _held_seats(db, event) == 0


def test_an_admitted_buyer_holds_and_books_with_the_token(rooms: Any, accounts: Any, api: Any, db: Any) -> None:
    event = rooms.event()
    buyer = accounts.create()
    token = rooms.admitted_token(buyer, event.id)

    held = _hold(api, buyer, event, token)
    created = api.post(
        "/api/bookings/create", json={"eventId": event.id}, token=buyer.token, headers={"X-Admission-Token": token}
    )

    assert held.status == 200, held.body
    assert created.status == 201, created.body
    assert db.value("SELECT count(*) FROM bookings WHERE event_id = :id AND status = 'PENDING'", id=event.id) == 1


def test_hold_best_needs_the_token_too(rooms: Any, accounts: Any, api: Any, db: Any) -> None:
    event = rooms.event()

    answer = api.post(
        "/api/bookings/hold-best", json={"eventId": event.id, "quantity": 1}, token=accounts.create().token
    )

    assert answer.status == 403
    assert answer.error_code == "ADMISSION_REQUIRED"
    assert _held_seats(db, event) == 0


def test_another_accounts_token_is_403_admission_invalid(rooms: Any, accounts: Any, api: Any, db: Any) -> None:
    event = rooms.event()
    token = rooms.admitted_token(accounts.create(), event.id)

    answer = _hold(api, accounts.create(), event, token)

    assert answer.status == 403
    assert answer.error_code == "ADMISSION_INVALID"
    assert _held_seats(db, event) == 0


def test_another_events_token_is_403_admission_invalid(rooms: Any, accounts: Any, api: Any, db: Any) -> None:
    buyer = accounts.create()
    event, other = rooms.event(), rooms.event()
    token = rooms.admitted_token(buyer, other.id)

    answer = _hold(api, buyer, event, token)

    assert answer.status == 403
    assert answer.error_code == "ADMISSION_INVALID"
    assert _held_seats(db, event) == 0


def test_an_expired_token_is_403_admission_expired(rooms: Any, accounts: Any, api: Any, db: Any) -> None:
    from ticketing.waiting_room import tokens

    event = rooms.event()
    buyer = accounts.create()
    past = datetime.now(UTC) - timedelta(seconds=1)
    expired = tokens.sign(UUID(buyer.id), UUID(event.id), 1, past)

    answer = _hold(api, buyer, event, expired)

    assert answer.status == 403
    assert answer.error_code == "ADMISSION_EXPIRED"
    assert _held_seats(db, event) == 0


@pytest.mark.parametrize("forgery", ["not-a-token", "ticket-code", "altered"])
def test_a_forged_or_foreign_token_is_403_admission_invalid(
    forgery: str, rooms: Any, accounts: Any, api: Any, db: Any
) -> None:
    from ticketing.tickets import codes

    event = rooms.event()
    buyer = accounts.create()
    token = rooms.admitted_token(buyer, event.id)
    presented = {
        "not-a-token": "not-a-token",
        # A ticket code is signed by the same key ring but is not an admission.
        "ticket-code": codes.sign(UUID(buyer.id), UUID(event.id)),
        "altered": token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB"),
    }[forgery]

    answer = _hold(api, buyer, event, presented)

    assert answer.status == 403
    assert answer.error_code == "ADMISSION_INVALID"
    assert _held_seats(db, event) == 0


def test_an_admission_token_is_not_a_ticket_code(rooms: Any, accounts: Any) -> None:
    from ticketing.errors import ValidationFailed
    from ticketing.tickets import codes

    event = rooms.event()
    token = rooms.admitted_token(accounts.create(), event.id)

    with pytest.raises(ValidationFailed):
        codes.verify(token)


def test_an_event_without_a_room_sells_without_a_token(
    catalog: Any, accounts: Any, api: Any, db: Any, dynamodb: str
) -> None:
    event = catalog.event()

    answer = _hold(api, accounts.create(), event, None)

    assert answer.status == 200, answer.body
    assert _held_seats(db, event) == 1


def test_paying_and_cancelling_need_no_token(rooms: Any, accounts: Any, api: Any) -> None:
    event = rooms.event()
    buyer = accounts.create()
    token = rooms.admitted_token(buyer, event.id)
    assert _hold(api, buyer, event, token).status == 200
    created = api.post(
        "/api/bookings/create", json={"eventId": event.id}, token=buyer.token, headers={"X-Admission-Token": token}
    )
    assert created.status == 201, created.body

    cancelled = api.post(f"/api/bookings/{created.json()['id']}/cancel", json={}, token=buyer.token)

    assert cancelled.status == 200, cancelled.body
    assert cancelled.json()["status"] == "CANCELLED"


def test_with_the_store_down_admitted_buyers_still_buy_and_nobody_new_gets_in(
    rooms: Any, accounts: Any, api: Any, db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ticketing.aws_clients import forget_clients
    from ticketing.config import get_settings

    event = rooms.event()
    admitted, newcomer = accounts.create(), accounts.create()
    token = rooms.admitted_token(admitted, event.id)
    # The store becomes unreachable: nothing listens on port 9.
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:9")
    forget_clients()
    get_settings.cache_clear()
    try:
        joined = api.post(f"/api/events/{event.id}/queue", token=newcomer.token)
        refused = _hold(api, newcomer, event, None)
        held = _hold(api, admitted, event, token)
    finally:
        monkeypatch.undo()
        forget_clients()

    assert joined.status == 503
    assert joined.error_code == "WAITING_ROOM_UNAVAILABLE"
    assert refused.status == 403
    assert refused.error_code == "ADMISSION_REQUIRED"
    assert held.status == 200, held.body
    assert _held_seats(db, event) == 1


def _released_sessions(event: Any) -> int:
    from ticketing.waiting_room import health_log

    return sum(sample.released for _, sample in health_log.health_samples(UUID(event.id), "0"))


def test_releasing_all_holds_ends_the_session_and_releasing_some_does_not(
    rooms: Any, accounts: Any, api: Any, db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ticketing.waiting_room import admission

    # Given two admitted buyers holding one seat each (every call writes its health sample at once)
    monkeypatch.setattr(admission, "SAMPLE_SECONDS", 0.0)
    event = rooms.event()
    whole, partial = accounts.create(), accounts.create()
    for buyer, seat in ((whole, 0), (partial, 1)):
        token = rooms.admitted_token(buyer, event.id)
        held = api.post(
            HOLD,
            json={"eventId": event.id, "seatIds": [event.seat_ids[seat]]},
            token=buyer.token,
            headers={"X-Admission-Token": token},
        )
        assert held.status == 200, held.body
    assert _released_sessions(event) == 0

    # When one releases a seat by id, and the other releases all its holds
    some = api.post(
        "/api/bookings/release-seats", json={"eventId": event.id, "seatIds": [event.seat_ids[1]]}, token=partial.token
    )
    everything = api.post("/api/bookings/release-seats", json={"eventId": event.id}, token=whole.token)

    # Then both seats are free again, and only the buyer who let go of everything ended its session
    assert (some.status, everything.status) == (200, 200)
    assert _held_seats(db, event) == 0
    assert _released_sessions(event) == 1
