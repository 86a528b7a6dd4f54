"""What the smoke test asks of a deployment: a customer's whole purchase, then everything it made undone.

Each step uses only the public API, as a client would (docs/smoke.md). What the run made is remembered here,
so the cleanup undoes exactly that and nothing else: the held seat, the booking, the event it created, the
sessions it opened.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from devtools.smoke_checks import PAYING_TOKENS, Options, SmokeRun, StepFailed, expect

# Two attempts more when another buyer takes the seat we picked between reading the map and holding it.
HOLD_ATTEMPTS = 3
# How many pages of published events are searched for one on sale.
EVENT_PAGES = 3
SMOKE_EVENT_DAYS_AHEAD = 30


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


@dataclass
class Session:
    access_token: str
    refresh_token: str


class Journey:
    def __init__(self, run: SmokeRun, options: Options, run_id: str) -> None:
        self.run = run
        self.options = options
        self.run_id = run_id
        self.email = f"smoke-{run_id.lower()}@{options.email_domain}"
        self.password = secrets.token_urlsafe(18)
        # Registering and logging in each open a session (a refresh-token family); the cleanup ends both.
        self.sessions: list[Session] = []
        self.customer: Session | None = None
        self.organizer: Session | None = None
        self.event: dict[str, Any] | None = None
        self.created_event_id: str | None = None
        self.admission_token: str | None = None
        self.held_seat_id: str | None = None
        self.booking: dict[str, Any] | None = None

    def _call(self, method: str, path: str, session: Session | None = None, **kwargs: Any) -> Any:
        token = session.access_token if session else None
        return self.run.api.call(method, path, token=token, **kwargs)

    # The purchase -------------------------------------------------------------------------------------------

    def buy_and_cancel(self) -> None:
        self.run.step("health", self.health)
        self.run.step("register", self.register)
        self.run.step("login", self.login)
        if self.options.organizer_email:
            self.run.step("organizer login", self.organizer_login)
            self.run.step("create event", self.create_event)
            self.run.step("publish event", self.publish_event)
        else:
            self.run.step("find event on sale", self.find_event)
        self.run.step("admission", self.admission)
        self.run.step("hold seat", self.hold_seat)
        self.run.step("create booking", self.create_booking)
        self.run.step("pay", self.pay)
        self.run.step("cancel booking", self.cancel_booking)

    def health(self) -> str:
        body = expect(self._call("GET", "/api/health"), 200)
        if body.get("status") != "ok" or body.get("database") != "ok":
            raise StepFailed(f"health answers {body}")
        return "status ok, database ok"

    def register(self) -> str:
        body = expect(
            self._call(
                "POST",
                "/api/auth/register",
                json={"email": self.email, "password": self.password, "name": f"Smoke test {self.run_id}"},
            ),
            201,
        )
        self.customer = Session(body["accessToken"], body["refreshToken"])
        self.sessions.append(self.customer)
        return self.email

    def login(self) -> str:
        self.customer = self._log_in(self.email, self.password)
        self.sessions.append(self.customer)
        return "customer signed in"

    def organizer_login(self) -> str:
        assert_given(self.options.organizer_email, self.options.organizer_password)
        self.organizer = self._log_in(str(self.options.organizer_email), str(self.options.organizer_password))
        return str(self.options.organizer_email)

    def _log_in(self, email: str, password: str) -> Session:
        body = expect(self._call("POST", "/api/auth/login", json={"email": email, "password": password}), 200)
        return Session(body["accessToken"], body["refreshToken"])

    def create_event(self) -> str:
        venues = expect(self._call("GET", "/api/venues", self.organizer, query={"pageSize": 100}), 200)["items"]
        venue = min(
            (venue for venue in venues if venue.get("capacity")), key=lambda venue: venue["capacity"], default=None
        )
        if venue is None:
            raise StepFailed("no venue with seats to create the smoke event in (an ADMIN creates venues)")
        starts = datetime.now(UTC).replace(microsecond=0) + timedelta(days=SMOKE_EVENT_DAYS_AHEAD)
        body = {
            "venueId": venue["id"],
            "title": f"Smoke test {self.run_id}",
            "description": "Made by `make smoke`; cancelled by the same run.",
            "category": "SMOKE",
            "startsAt": _iso(starts),
            "endsAt": _iso(starts + timedelta(hours=1)),
            "currency": "EUR",
            "prices": [{"sectionId": section["id"], "price": 100} for section in venue["sections"]],
            "maxTicketsPerUser": 1,
        }
        event = expect(self._call("POST", "/api/events", self.organizer, json=body), 201)
        self.created_event_id = event["id"]
        return f"{event['id']} in {venue['name']} ({venue['capacity']} seats)"

    def publish_event(self) -> str:
        path = f"/api/events/{self.created_event_id}/publish"
        self.event = expect(self._call("POST", path, self.organizer, json={}), 200)
        return "PUBLISHED"

    def find_event(self) -> str:
        if self.options.event_id:
            event = expect(self._call("GET", f"/api/events/{self.options.event_id}", self.customer), 200)
            self._check_buyable(event)
            self.event = event
            return f"{event['title']} ({event['id']})"
        for candidate in self._candidates():
            event = expect(self._call("GET", f"/api/events/{candidate['id']}", self.customer), 200)
            if any(section["available"] > 0 for section in event["sections"]):
                self.event = event
                return f"{event['title']} ({event['id']})"
        raise StepFailed(
            "no published event is on sale with free seats and starts after the cancellation cutoff;"
            " give organizer credentials (SMOKE_ORGANIZER_EMAIL/PASSWORD) to let the run create one"
        )

    def _candidates(self) -> list[dict[str, Any]]:
        """Events on sale that start late enough to be cancelled, those without a waiting room first."""
        now = datetime.now(UTC)
        earliest = now + timedelta(hours=self.options.cancellation_cutoff_hours, minutes=10)
        found: list[dict[str, Any]] = []
        for page in range(1, EVENT_PAGES + 1):
            query = {"status": "PUBLISHED", "from": _iso(earliest), "pageSize": 100, "page": page}
            listing = expect(self._call("GET", "/api/events", self.customer, query=query), 200)
            found += [event for event in listing["items"] if _on_sale(event, now)]
            if page * listing["pageSize"] >= listing["total"]:
                break
        return sorted(found, key=lambda event: bool(event["waitingRoom"]["enabled"]))

    def _check_buyable(self, event: dict[str, Any]) -> None:
        now = datetime.now(UTC)
        if not _on_sale(event, now):
            raise StepFailed(f"event {event['id']} is not on sale ({event['status']})")
        if _parse(event["startsAt"]) <= now + timedelta(hours=self.options.cancellation_cutoff_hours):
            raise StepFailed(
                f"event {event['id']} starts inside the cancellation cutoff; its booking cannot be cancelled"
            )

    @property
    def _event_id(self) -> str:
        return str(self.event["id"]) if self.event else ""

    def admission(self) -> str:
        """Joins the event's waiting room and waits, as told by pollAfterSeconds, until admitted (bounded)."""
        if not self.event or not self.event["waitingRoom"]["enabled"]:
            return "no waiting room"
        place = expect(self._call("POST", f"/api/events/{self._event_id}/queue", self.customer, json={}), 200, 201)
        deadline = time.monotonic() + self.options.admission_timeout
        while place["state"] != "ADMITTED":
            if place["state"] in ("SOLD_OUT", "CLOSED"):
                raise StepFailed(f"the waiting room answers {place['state']}")
            if time.monotonic() >= deadline:
                raise StepFailed(
                    f"not admitted within {self.options.admission_timeout:.0f} s"
                    f" ({place['state']}, {place.get('aheadOfYou')} ahead)"
                )
            time.sleep(min(max(float(place.get("pollAfterSeconds") or 1), 1.0), 10.0))
            place = expect(self._call("GET", f"/api/events/{self._event_id}/queue/me", self.customer), 200)
        self.admission_token = place["admission"]["token"]
        return f"admitted, position {place.get('position')}"

    def hold_seat(self) -> str:
        """Holds the first free seat of a section with free seats, by its label; another seat when it was taken."""
        section = next(section for section in self._fresh_event()["sections"] if section["available"] > 0)
        tried: set[tuple[str, int]] = set()
        for _attempt in range(HOLD_ATTEMPTS):
            row, number = self._free_seat(section["id"], tried)
            tried.add((row, number))
            response = self._call(
                "POST",
                "/api/bookings/hold-seats",
                self.customer,
                json={"eventId": self._event_id, "seats": [{"sectionId": section["id"], "row": row, "number": number}]},
                headers=self._admission_headers(),
            )
            if response.status == 409 and response.error_code in ("SEATS_UNAVAILABLE", "SEATS_LOCKED"):
                continue
            held = expect(response, 200)
            self.held_seat_id = held["seatIds"][0]
            return f"{section['name']} row {row} seat {number}, held until {held['heldUntil']}"
        raise StepFailed(f"{HOLD_ATTEMPTS} free seats in a row were taken by others before we could hold them")

    def _fresh_event(self) -> dict[str, Any]:
        return dict(expect(self._call("GET", f"/api/events/{self._event_id}", self.customer), 200))

    def _free_seat(self, section_id: str, tried: set[tuple[str, int]]) -> tuple[str, int]:
        query = {"sectionId": section_id}
        status_map = expect(self._call("GET", f"/api/events/{self._event_id}/seats/status", query=query), 200)
        section = status_map["sections"][0]
        for index, status in enumerate(section["seats"]):
            seat = (section["rowLabels"][index // section["seatsPerRow"]], index % section["seatsPerRow"] + 1)
            if status == "A" and seat not in tried:
                return seat
        raise StepFailed(f"section {section['name']} has no free seat left")

    def _admission_headers(self) -> dict[str, str]:
        return {"X-Admission-Token": self.admission_token} if self.admission_token else {}

    def create_booking(self) -> str:
        body = {"eventId": self._event_id, "seatIds": [self.held_seat_id]}
        headers = self._admission_headers()
        self.booking = expect(
            self._call("POST", "/api/bookings/create", self.customer, json=body, headers=headers), 201
        )
        booking = self.booking
        if booking["status"] != "PENDING":
            raise StepFailed(f"booking {booking['id']} is {booking['status']}, not PENDING")
        self.held_seat_id = None  # the seat is the booking's now
        return f"{booking['id']} PENDING, {booking['total']} {booking['currency']}"

    def pay(self) -> str:
        """Asks for the booking's payment intent (its provider tells which test card pays), then confirms."""
        booking = self._booking
        intent = expect(self._call("POST", f"/api/bookings/{booking['id']}/pay", self.customer, json={}), 200)
        provider = intent["payment"]["provider"]
        token = self.options.payment_token or PAYING_TOKENS.get(provider)
        if token is None:
            raise StepFailed(f"no test card known for provider {provider!r}; pass --payment-token")
        body = {"paymentToken": token, "amount": booking["total"], "version": booking["version"]}
        paid = expect(self._call("POST", f"/api/bookings/{booking['id']}/confirm", self.customer, json=body), 200)
        self.booking = paid
        if paid["status"] != "CONFIRMED":
            raise StepFailed(f"booking is {paid['status']} after paying, not CONFIRMED")
        return f"{provider} provider, {token}: CONFIRMED, payment {paid['payment']['status']}"

    def cancel_booking(self) -> str:
        cancelled = self._cancel(self._booking)
        return f"CANCELLED, payment {(cancelled.get('payment') or {}).get('status', 'none')}"

    @property
    def _booking(self) -> dict[str, Any]:
        if self.booking is None:
            raise StepFailed("no booking was made")
        return self.booking

    def _cancel(self, booking: dict[str, Any]) -> dict[str, Any]:
        body = {"reason": f"smoke test {self.run_id}", "version": booking["version"]}
        cancelled = expect(self._call("POST", f"/api/bookings/{booking['id']}/cancel", self.customer, json=body), 200)
        self.booking = cancelled
        if cancelled["status"] != "CANCELLED":
            raise StepFailed(f"booking is {cancelled['status']} after cancel")
        return dict(cancelled)

    # The cleanup: only what this run made, each undone even when an earlier undo failed ----------------------

    def clean_up(self) -> None:
        if self.held_seat_id:
            self.run.cleanup("release hold", self._release_hold)
        if self.booking and self.booking["status"] in ("PENDING", "CONFIRMED"):
            self.run.cleanup("cancel booking", lambda: self._cancel(self._booking)["status"])
        if self.created_event_id:
            self.run.cleanup("cancel event", self._cancel_event)
        if self.sessions:
            self.run.cleanup("log out", self._log_out_customer)
        if self.organizer:
            self.run.cleanup("organizer log out", lambda: self._log_out(self.organizer))

    def _release_hold(self) -> str:
        body = {"eventId": self._event_id}
        released = expect(self._call("POST", "/api/bookings/release-seats", self.customer, json=body), 200)
        self.held_seat_id = None
        return f"released {len(released['releasedSeatIds'])} seat(s)"

    def _cancel_event(self) -> str:
        path = f"/api/events/{self.created_event_id}/cancel"
        event = expect(self._call("POST", path, self.organizer, json={}), 200)
        if event["status"] != "CANCELLED":
            raise StepFailed(f"event is {event['status']} after cancel")
        return f"{self.created_event_id} CANCELLED"

    def _log_out_customer(self) -> str:
        for session in self.sessions:
            self._log_out(session)
        return f"{len(self.sessions)} session(s) revoked"

    def _log_out(self, session: Session | None) -> str:
        if session is None:
            return "no session"
        expect(self._call("POST", "/api/auth/logout", session, json={"refreshToken": session.refresh_token}), 204)
        return "refresh token revoked"


def assert_given(*values: str | None) -> None:
    if not all(values):
        raise StepFailed("organizer email and password are both needed")


def _on_sale(event: dict[str, Any], now: datetime) -> bool:
    sales_start = event.get("salesStartAt")
    return (
        event["status"] == "PUBLISHED"
        and (sales_start is None or _parse(sales_start) <= now)
        and now < _parse(event["salesEndAt"])
        and now < _parse(event["startsAt"])
    )
