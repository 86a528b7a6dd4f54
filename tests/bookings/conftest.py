"""A buyer's steps through /api/bookings, shared by the booking tests."""

from __future__ import annotations

from typing import Any

import pytest


class Shop:
    """Calls the bookings API as a buyer; the `*_booking` helpers assert each step succeeded."""

    HOLD = "/api/bookings/hold-seats"
    RELEASE = "/api/bookings/release-seats"
    EXTEND = "/api/bookings/extend-hold"
    HOLD_STATUS = "/api/bookings/hold-status"
    CREATE = "/api/bookings/create"

    def __init__(self, api: Any) -> None:
        self.api = api

    def hold(self, account: Any, event_id: str, seat_ids: list[str], **kwargs: Any) -> Any:
        return self.api.post(self.HOLD, json={"eventId": event_id, "seatIds": seat_ids}, token=account.token, **kwargs)

    def create(self, account: Any, event_id: str, seat_ids: list[str] | None = None, **body: Any) -> Any:
        payload: dict[str, Any] = {"eventId": event_id, **body}
        if seat_ids is not None:
            payload["seatIds"] = seat_ids
        return self.api.post(self.CREATE, json=payload, token=account.token)

    def confirm(self, account: Any, booking: dict[str, Any], token: str = "tok_visa", **overrides: Any) -> Any:
        body = {"paymentToken": token, "amount": booking["total"], "version": booking["version"], **overrides}
        body = {name: value for name, value in body.items() if value is not None}
        headers = overrides.pop("headers", None)
        body.pop("headers", None)
        return self.api.post(f"/api/bookings/{booking['id']}/confirm", json=body, token=account.token, headers=headers)

    def cancel(self, account: Any, booking_id: str, body: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        return self.api.post(f"/api/bookings/{booking_id}/cancel", json=body or {}, token=account.token, **kwargs)

    def held(self, account: Any, event_id: str, seat_ids: list[str], **kwargs: Any) -> dict[str, Any]:
        """A Given step: the hold succeeded (else the test stops here), and its answer."""
        held = self.hold(account, event_id, seat_ids, **kwargs)
        assert held.status == 200, held.body
        assert held.json()["seatIds"] == seat_ids, held.body
        answer: dict[str, Any] = held.json()
        return answer

    def released(self, account: Any, event_id: str) -> list[str]:
        """A Given step: every hold of the caller on the event released; the released seat ids."""
        released = self.api.post(self.RELEASE, json={"eventId": event_id}, token=account.token)
        assert released.status == 200, released.body
        seat_ids: list[str] = released.json()["releasedSeatIds"]
        return seat_ids

    def pending_booking(self, account: Any, event: Any, seat_ids: list[str], **body: Any) -> dict[str, Any]:
        self.held(account, event.id, seat_ids)
        created = self.create(account, event.id, seat_ids, **body)
        assert created.status == 201, created.body
        booking: dict[str, Any] = created.json()
        return booking

    def confirmed_booking(self, account: Any, event: Any, seat_ids: list[str]) -> dict[str, Any]:
        confirmed = self.confirm(account, self.pending_booking(account, event, seat_ids))
        assert confirmed.status == 200, confirmed.body
        booking: dict[str, Any] = confirmed.json()
        return booking


@pytest.fixture
def shop(api: Any) -> Shop:
    return Shop(api)


class RowLocker:
    """Another database session that holds row locks, as a concurrent request would."""

    def __init__(self) -> None:
        import os

        import pg8000.native

        from ticketing.db.dsn import parse_database_url

        self._connection = pg8000.native.Connection(**parse_database_url(os.environ["DATABASE_URL"]).as_pg8000_kwargs())
        self._locking = False

    def lock(self, sql: str, **params: Any) -> None:
        self._connection.run("BEGIN")
        self._locking = True
        self._connection.run(sql, **params)

    def release(self) -> None:
        if self._locking:
            self._connection.run("ROLLBACK")
            self._locking = False

    def close(self) -> None:
        self.release()
        self._connection.close()


@pytest.fixture
def row_locker(db: Any) -> Any:
    locker = RowLocker()
    yield locker
    locker.close()
