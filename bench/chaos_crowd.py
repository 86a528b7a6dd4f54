"""The crowd of `python -m bench chaos`: buyers holding, booking, paying and cancelling through the runner,
every answer recorded (status, time, whether a 5xx came in the error envelope).

A buyer's journey: hold two seats (seven in ten pick them, the others ask best-available), create the booking,
then most pay (with an Idempotency-Key, retried with the same key after a 5xx as a client should), some of
those cancel afterwards, some cancel unpaid and the rest leave the booking pending. A lost race (409) or a
fault (5xx) ends the journey; the buyer starts another.
"""

from __future__ import annotations

import json
import random
import threading
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from typing import Any

# Longer than API Gateway's 29 s: a request still unanswered then has hung.
CLIENT_TIMEOUT_SECONDS = 40.0
HUNG_AFTER_SECONDS = 30.0
CONFIRM_RETRIES = 3
RETRY_PAUSE_SECONDS = 0.5
PICK_SHARE = 0.7
PAY_SHARE = 0.8
CANCEL_PAID_SHARE = 0.15
CANCEL_UNPAID_SHARE = 0.5
DOOMED_SHARE = 0.15


@dataclass(frozen=True)
class Answer:
    step: str
    started: float
    ended: float
    status: int  # 0: no answer (connection refused or reset, or the client's timeout)
    in_envelope: bool
    code: str | None  # the error envelope's code
    message: str | None  # and its message (a 503 says which part was unavailable)

    @property
    def seconds(self) -> float:
        return self.ended - self.started

    @property
    def hung(self) -> bool:
        return self.status == 0 or self.seconds > HUNG_AFTER_SECONDS


@dataclass
class Journal:
    answers: list[Answer] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, answer: Answer) -> None:
        with self.lock:
            self.answers.append(answer)

    def snapshot(self) -> list[Answer]:
        with self.lock:
            return list(self.answers)


@dataclass(frozen=True)
class Stage:
    """What the crowd buys: the main event, and the event the organizer cancels during the storm."""

    base_url: str
    main_event: str
    main_seats: list[str]
    doomed_event: str
    doomed_seats: list[str]
    tokens: list[str]
    organizer_token: str


class Client:
    def __init__(self, stage: Stage, journal: Journal) -> None:
        self.stage = stage
        self.journal = journal

    def post(self, step: str, path: str, token: str, body: Any, headers: dict[str, str] | None = None) -> Any:
        """(status, body) of one POST, recorded in the journal."""
        request = urllib.request.Request(
            self.stage.base_url + path,
            data=json.dumps(body).encode(),
            method="POST",
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json", **(headers or {})},
        )
        started = time.monotonic()
        status, payload = 0, None
        try:
            with urllib.request.urlopen(request, timeout=CLIENT_TIMEOUT_SECONDS) as response:
                status, payload = response.status, _json(response.read())
        except urllib.error.HTTPError as refused:
            status, payload = refused.code, _json(refused.read())
        except (OSError, TimeoutError):
            status = 0
        envelope = payload["error"] if isinstance(payload, dict) and _in_envelope(payload) else {}
        code, message = envelope.get("code"), envelope.get("message")
        self.journal.add(Answer(step, started, time.monotonic(), status, code is not None, code, message))
        return status, payload


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return None


def _in_envelope(payload: Any) -> bool:
    error = payload.get("error") if isinstance(payload, dict) else None
    return isinstance(error, dict) and isinstance(error.get("code"), str) and isinstance(error.get("message"), str)


def journey(client: Client, token: str, rng: random.Random) -> None:
    stage = client.stage
    doomed = rng.random() < DOOMED_SHARE
    event, seats = (stage.doomed_event, stage.doomed_seats) if doomed else (stage.main_event, stage.main_seats)
    if rng.random() < PICK_SHARE:
        start = rng.randrange(len(seats) - 1)
        pair = seats[start : start + 2]
        status, held = client.post("hold-seats", "/api/bookings/hold-seats", token, {"eventId": event, "seatIds": pair})
    else:
        status, held = client.post("hold-best", "/api/bookings/hold-best", token, {"eventId": event, "quantity": 2})
    if status != 200:
        return
    status, booking = client.post(
        "create", "/api/bookings/create", token, {"eventId": event, "seatIds": held["seatIds"]}
    )
    if status != 201:
        return
    if rng.random() < PAY_SHARE:
        confirmed = _pay(client, token, booking)
        if confirmed is not None and rng.random() < CANCEL_PAID_SHARE:
            client.post("cancel-paid", f"/api/bookings/{booking['id']}/cancel", token, {})
    elif rng.random() < CANCEL_UNPAID_SHARE:
        client.post("cancel-unpaid", f"/api/bookings/{booking['id']}/cancel", token, {})


def _pay(client: Client, token: str, booking: dict[str, Any]) -> dict[str, Any] | None:
    body = {"paymentToken": "tok_visa", "amount": booking["total"], "version": booking["version"]}
    key = {"Idempotency-Key": str(uuid.uuid4())}
    for _ in range(CONFIRM_RETRIES):
        status, answer = client.post("confirm", f"/api/bookings/{booking['id']}/confirm", token, body, key)
        if status == 200:
            return dict(answer)
        if status < 500:
            return None
        time.sleep(RETRY_PAUSE_SECONDS)
    return None


def cancel_event(client: Client, event_id: str, attempts: int = 20) -> bool:
    """The organizer cancels the doomed event, retrying through faults (a repeat changes nothing)."""
    for _ in range(attempts):
        status, _ = client.post("cancel-event", f"/api/events/{event_id}/cancel", client.stage.organizer_token, {})
        if status == 200:
            return True
        time.sleep(1.0)
    return False


def run_crowd(stage: Stage, journal: Journal, clients: int, until: float, seed: int) -> None:
    """`clients` threads, each taking the next buyer in turn, buying until `until` (monotonic)."""
    turn = iter(range(10**9))
    turn_lock = threading.Lock()

    def shop(index: int) -> None:
        client = Client(stage, journal)
        rng = random.Random(seed * 1000 + index)
        while time.monotonic() < until:
            with turn_lock:
                buyer = next(turn) % len(stage.tokens)
            journey(client, stage.tokens[buyer], rng)

    threads = [threading.Thread(target=shop, args=(index,), name=f"buyer-{index}") for index in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
