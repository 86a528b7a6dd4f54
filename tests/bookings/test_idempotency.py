"""Bookings (docs/api.md): `Idempotency-Key` on hold-seats, create, confirm and cancel."""

from __future__ import annotations

from typing import Any


def _key(value: str) -> dict[str, str]:
    return {"Idempotency-Key": value}


def test_a_replayed_hold_answers_the_first_response_and_changes_nothing(
    shop: Any, accounts: Any, catalog: Any, db: Any
) -> None:
    event = catalog.event()
    buyer = accounts.create()
    first = shop.hold(buyer, event.id, event.seat_ids[:1], headers=_key("hold-1"))
    assert shop.released(buyer, event.id) == [event.seat_ids[0]]

    replay = shop.hold(buyer, event.id, event.seat_ids[:1], headers=_key("hold-1"))

    assert replay.status == first.status == 200
    assert replay.json() == first.json()
    assert replay.header("Idempotent-Replayed") == "true"
    assert db.value("SELECT status FROM event_seats WHERE id = :id", id=event.seat_ids[0]) == "AVAILABLE"


def test_a_replayed_create_returns_the_same_booking_once(shop: Any, accounts: Any, catalog: Any, db: Any) -> None:
    event = catalog.event()
    buyer = accounts.create()
    shop.held(buyer, event.id, event.seat_ids[:1])
    body = {"eventId": event.id}

    first = shop.api.post(shop.CREATE, json=body, token=buyer.token, headers=_key("create-1"))
    replay = shop.api.post(shop.CREATE, json=body, token=buyer.token, headers=_key("create-1"))

    assert first.status == replay.status == 201
    assert replay.json() == first.json()
    assert db.value("SELECT count(*) FROM bookings") == 1


def test_a_replayed_confirm_charges_once(shop: Any, accounts: Any, catalog: Any, db: Any) -> None:
    event = catalog.event()
    buyer = accounts.create()
    booking = shop.pending_booking(buyer, event, event.seat_ids[:1])

    first = shop.confirm(buyer, booking, headers=_key("pay-1"))
    replay = shop.confirm(buyer, booking, headers=_key("pay-1"))

    assert first.status == replay.status == 200
    assert replay.json() == first.json()
    assert db.value("SELECT count(*) FROM payments") == 1
    assert db.value("SELECT version FROM bookings") == 2


def test_a_replayed_decline_answers_the_same_402_without_charging_again(
    shop: Any, accounts: Any, catalog: Any, db: Any
) -> None:
    event = catalog.event()
    buyer = accounts.create()
    booking = shop.pending_booking(buyer, event, event.seat_ids[:1])

    first = shop.confirm(buyer, booking, token="tok_chargeDeclined", headers=_key("pay-2"))
    replay = shop.confirm(buyer, booking, token="tok_chargeDeclined", headers=_key("pay-2"))

    assert first.status == replay.status == 402
    assert replay.json() == first.json()
    assert db.value("SELECT count(*) FROM payments") == 1


def test_a_replayed_cancel_answers_the_first_response(shop: Any, accounts: Any, catalog: Any, db: Any) -> None:
    event = catalog.event()
    buyer = accounts.create()
    booking = shop.pending_booking(buyer, event, event.seat_ids[:1])

    first = shop.cancel(buyer, booking["id"], headers=_key("cancel-1"))
    replay = shop.cancel(buyer, booking["id"], headers=_key("cancel-1"))

    assert first.status == replay.status == 200
    assert replay.json() == first.json()
    assert db.value("SELECT version FROM bookings") == 2


def test_the_same_key_with_a_different_body_is_422(shop: Any, accounts: Any, catalog: Any, db: Any) -> None:
    event = catalog.event()
    buyer = accounts.create()
    shop.held(buyer, event.id, event.seat_ids[:1], headers=_key("k"))

    response = shop.hold(buyer, event.id, event.seat_ids[1:2], headers=_key("k"))

    assert response.status == 422
    assert response.error_code == "IDEMPOTENCY_KEY_REUSED"
    assert db.value("SELECT status FROM event_seats WHERE id = :id", id=event.seat_ids[1]) == "AVAILABLE"


def test_the_same_key_on_another_operation_is_422(shop: Any, accounts: Any, catalog: Any, db: Any) -> None:
    event = catalog.event()
    buyer = accounts.create()
    shop.held(buyer, event.id, event.seat_ids[:1], headers=_key("k"))

    response = shop.api.post(shop.CREATE, json={"eventId": event.id}, token=buyer.token, headers=_key("k"))

    assert response.status == 422
    assert response.error_code == "IDEMPOTENCY_KEY_REUSED"
    assert db.value("SELECT count(*) FROM bookings") == 0


def test_keys_belong_to_one_user(shop: Any, accounts: Any, catalog: Any, db: Any) -> None:
    event = catalog.event()
    first, second = accounts.create(), accounts.create()
    shop.held(first, event.id, event.seat_ids[:1], headers=_key("shared"))

    response = shop.hold(second, event.id, event.seat_ids[1:2], headers=_key("shared"))

    assert response.status == 200
    assert response.header("Idempotent-Replayed") is None
    assert db.value("SELECT held_by::text FROM event_seats WHERE id = :id", id=event.seat_ids[1]) == second.id


def a_hold_left_in_flight(shop: Any, accounts: Any, catalog: Any, db: Any, key: str, since: str) -> tuple[Any, Any]:
    """A Given step: a hold whose key reads as in flight since `since` ago (its answer never stored, as when its
    invocation is still running or died), its seat released again; the event and the buyer."""
    event = catalog.event()
    buyer = accounts.create()
    shop.held(buyer, event.id, event.seat_ids[:1], headers=_key(key))
    db.execute(
        "UPDATE idempotency_keys SET response_status = NULL, response_body = NULL,"
        " created_at = now() - CAST(:since AS interval)",
        since=since,
    )
    assert shop.released(buyer, event.id) == [event.seat_ids[0]]
    return event, buyer


def test_a_request_still_in_flight_is_409_with_retry_after(shop: Any, accounts: Any, catalog: Any, db: Any) -> None:
    event, buyer = a_hold_left_in_flight(shop, accounts, catalog, db, "busy", since="0 seconds")

    response = shop.hold(buyer, event.id, event.seat_ids[:1], headers=_key("busy"))

    assert response.status == 409
    assert response.error_code == "IDEMPOTENCY_IN_PROGRESS"
    assert response.header("Retry-After") == "1"
    assert db.value("SELECT status FROM event_seats WHERE id = :id", id=event.seat_ids[0]) == "AVAILABLE"


def test_an_abandoned_in_flight_key_is_taken_over_by_its_retry(shop: Any, accounts: Any, catalog: Any, db: Any) -> None:
    event = catalog.event()
    buyer = accounts.create()
    shop.held(buyer, event.id, event.seat_ids[:1], headers=_key("crashed"))
    db.execute("UPDATE idempotency_keys SET response_status = NULL, created_at = now() - interval '10 minutes'")

    response = shop.hold(buyer, event.id, event.seat_ids[:1], headers=_key("crashed"))

    assert response.status == 200
    assert response.header("Idempotent-Replayed") is None
    assert db.value("SELECT response_status FROM idempotency_keys") == 200


def test_a_key_abandoned_by_a_killed_worker_is_taken_over_once_no_invocation_can_still_run_it(
    shop: Any, accounts: Any, catalog: Any, db: Any
) -> None:
    # Given a hold whose worker was killed mid-request 31 s ago (API Gateway gave up on it at 29 s)
    event, buyer = a_hold_left_in_flight(shop, accounts, catalog, db, "killed", since="31 seconds")

    response = shop.hold(buyer, event.id, event.seat_ids[:1], headers=_key("killed"))

    assert response.status == 200, response.body
    assert db.value("SELECT held_by::text FROM event_seats WHERE id = :id", id=event.seat_ids[0]) == buyer.id


def test_the_in_flight_lease_outlasts_every_api_functions_timeout() -> None:
    from pathlib import Path

    from devtools.sam_template import load_template
    from ticketing.http.idempotency import IN_FLIGHT_LEASE_SECONDS

    api_functions = [f for f in load_template(Path(__file__).parents[2] / "template.yaml").functions if f.api_events]

    assert api_functions
    assert max(function.timeout for function in api_functions) < IN_FLIGHT_LEASE_SECONDS


def test_a_transient_error_is_not_stored_so_the_retry_runs(
    shop: Any, accounts: Any, catalog: Any, db: Any, row_locker: Any
) -> None:
    event = catalog.event()
    buyer = accounts.create()
    row_locker.lock("SELECT id FROM event_seats WHERE id = :id FOR UPDATE", id=event.seat_ids[0])
    locked = shop.hold(buyer, event.id, event.seat_ids[:1], headers=_key("retry"))
    row_locker.release()

    retried = shop.hold(buyer, event.id, event.seat_ids[:1], headers=_key("retry"))

    assert locked.error_code == "SEATS_LOCKED"
    assert retried.status == 200
    assert db.value("SELECT held_by::text FROM event_seats WHERE id = :id", id=event.seat_ids[0]) == buyer.id


def test_an_expired_key_can_be_used_again(shop: Any, accounts: Any, catalog: Any, db: Any) -> None:
    event = catalog.event()
    buyer = accounts.create()
    shop.held(buyer, event.id, event.seat_ids[:1], headers=_key("old"))
    db.execute("UPDATE idempotency_keys SET expires_at = now() - interval '1 second'")

    response = shop.hold(buyer, event.id, event.seat_ids[1:2], headers=_key("old"))

    assert response.status == 200
    assert response.header("Idempotent-Replayed") is None
    assert db.value("SELECT expires_at > now() + interval '23 hours' FROM idempotency_keys")


def test_keys_live_24_hours(shop: Any, accounts: Any, catalog: Any, db: Any) -> None:
    event = catalog.event()
    buyer = accounts.create()

    shop.held(buyer, event.id, event.seat_ids[:1], headers=_key("ttl"))

    hours = db.value("SELECT extract(epoch FROM expires_at - created_at) / 3600 FROM idempotency_keys")
    assert round(float(hours)) == 24


def test_an_overlong_key_is_a_validation_error(shop: Any, accounts: Any, catalog: Any, db: Any) -> None:
    event = catalog.event()
    buyer = accounts.create()

    response = shop.hold(buyer, event.id, event.seat_ids[:1], headers=_key("k" * 256))

    assert response.status == 422
    assert db.value("SELECT count(*) FROM idempotency_keys") == 0


def test_a_crash_before_the_answer_is_stored_leaves_no_work_without_its_answer(
    shop: Any, accounts: Any, catalog: Any, db: Any, monkeypatch: Any
) -> None:
    # Given a hold whose invocation dies after the hold's statements, just before the answer is written
    from ticketing.http import idempotency_keys

    event = catalog.event()
    buyer = accounts.create()
    real_store = idempotency_keys.store_answer

    def crash(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the function died here")

    monkeypatch.setattr(idempotency_keys, "store_answer", crash)
    crashed = shop.hold(buyer, event.id, event.seat_ids[:1], headers=_key("crash"))
    assert crashed.status == 500
    # Then neither the hold nor the key was committed
    assert db.value("SELECT status FROM event_seats WHERE id = :id", id=event.seat_ids[0]) == "AVAILABLE"
    assert db.value("SELECT count(*) FROM idempotency_keys") == 0
    # When the client retries with the same key, and once more
    monkeypatch.setattr(idempotency_keys, "store_answer", real_store)
    retried = shop.hold(buyer, event.id, event.seat_ids[:1], headers=_key("crash"))
    replayed = shop.hold(buyer, event.id, event.seat_ids[:1], headers=_key("crash"))
    # Then the retry does the work once, and the next one replays its answer
    assert (retried.status, replayed.status) == (200, 200)
    assert replayed.header("Idempotent-Replayed") == "true"
    assert replayed.json() == retried.json()
    assert db.value("SELECT held_by::text FROM event_seats WHERE id = :id", id=event.seat_ids[0]) == buyer.id


def test_the_answer_commits_in_the_same_transaction_as_the_hold(
    shop: Any, accounts: Any, catalog: Any, db: Any, statements: list[str]
) -> None:
    # Given a buyer and a free seat
    event = catalog.event()
    buyer = accounts.create()
    statements.clear()
    # When it holds the seat with a key
    held = shop.hold(buyer, event.id, event.seat_ids[:1], headers=_key("one-commit"))
    # Then the claim, the hold and the answer ran with no COMMIT between them
    assert held.status == 200, held.body
    claim = next(i for i, sql in enumerate(statements) if sql.startswith("INSERT INTO idempotency_keys"))
    hold = next(i for i, sql in enumerate(statements) if i > claim and "UPDATE event_seats" in sql)
    answer = next(i for i, sql in enumerate(statements) if i > hold and sql.startswith("UPDATE idempotency_keys"))
    assert [sql for sql in statements[claim:answer] if sql in {"BEGIN", "COMMIT", "ROLLBACK"}] == []
    assert "COMMIT" in statements[answer + 1 :]
    assert db.value("SELECT response_status FROM idempotency_keys") == 200
