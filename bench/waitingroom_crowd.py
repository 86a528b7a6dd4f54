"""The waiting room bench's crowd: virtual buyers over real HTTP (bench/waitingroom_bench.py runs them).

Each virtual buyer is a coroutine. A browser has a connection of its own; 20,000 of them cannot, so the crowd
shares pools of keep-alive connections, one per kind of traffic, so that no kind waits in the client behind
another: the crowd's joins and polls, the admitted buyers' purchases, and the CDN's fetches of the public state.
A request's time is measured on its connection, from the request written to the answer read: the time a
buyer waits for a free connection of the shared pool is the bench's, not the API's.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import json
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple
from urllib.parse import urlsplit
from uuid import UUID

# Twice the runner's environments per function (LOCAL_CONCURRENCY, 8): enough to keep every waiting room
# environment busy, while more would only queue in the runner, where Lambda would start more environments
# instead; a poll or a CDN fetch would wait behind them (48 made every such call wait about a second).
CONNECTIONS = 16
BUYING_CONNECTIONS = 32
SEATS_PER_BUYER = 2
MAX_ATTEMPTS = 5
MIN_RETRY_SECONDS = 2
HTTP_TIMEOUT_SECONDS = 120
# The room's half gives up on buyers still waiting this long after it started (they count as unanswered).
ROOM_DEADLINE_SECONDS = 1500
CLIENT_ERRORS = (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError)


@dataclass
class Tally:
    holds: list[float] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)  # "<call> <status>" -> answers
    connection_errors: int = 0
    bought: int = 0
    sold_out_told: list[float] = field(default_factory=list)  # when each waiting buyer learnt it (bench clock)
    sold_out_at_join: int = 0  # buyers whose join was answered after the room said SOLD_OUT
    unanswered: int = 0
    joined: list[tuple[float, str]] = field(default_factory=list)  # (join answered, user), joined after the start
    pre_queue_joins: int = 0
    admitted_order: list[str] = field(default_factory=list)  # line joiners, as the room admitted them
    public_fetches: int = 0
    public_fetch_seconds: list[float] = field(default_factory=list)
    found_nothing: int = 0  # admitted buyers who found no seat left
    gave_up: dict[str, int] = field(default_factory=dict)  # why buyers stopped without buying: the call that failed

    def count(self, call: str, status: int) -> None:
        key = f"{call} {status}"
        self.statuses[key] = self.statuses.get(key, 0) + 1

    def give_up(self, why: str) -> str:
        self.gave_up[why] = self.gave_up.get(why, 0) + 1
        return "gave-up"

    @property
    def requests(self) -> int:
        return sum(self.statuses.values())

    @property
    def server_errors(self) -> int:
        return sum(n for key, n in self.statuses.items() if int(key.rsplit(" ", 1)[1]) >= 500)


class Answer(NamedTuple):
    status: int
    headers: dict[str, str]
    body: Any
    seconds: float  # on the connection: the request written to the answer read


class Pool:
    """Keep-alive HTTP/1.1 connections to the runner, shared by coroutines (a minimal asyncio client)."""

    def __init__(self, base_url: str, size: int, tally: Tally) -> None:
        address = urlsplit(base_url)
        self._host, self._port = address.hostname or "127.0.0.1", address.port or 80
        self._free: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter] | None] = asyncio.Queue()
        for _ in range(size):
            self._free.put_nowait(None)
        self._tally = tally

    async def request(
        self,
        call: str,
        method: str,
        path: str,
        token: str | None = None,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        connection = await self._free.get()
        try:
            if connection is None:
                connection = await asyncio.open_connection(self._host, self._port)
            started = time.perf_counter()
            status, answer_headers, raw = await self._exchange(connection, method, path, token, body, headers)
            seconds = time.perf_counter() - started
        except CLIENT_ERRORS:
            self._tally.connection_errors += 1
            if connection is not None:
                connection[1].close()
            self._free.put_nowait(None)
            raise
        self._free.put_nowait(connection)
        self._tally.count(call, status)
        return Answer(status, answer_headers, json.loads(raw) if raw else None, seconds)

    async def _exchange(
        self,
        connection: tuple[asyncio.StreamReader, asyncio.StreamWriter],
        method: str,
        path: str,
        token: str | None,
        body: Any,
        headers: dict[str, str] | None,
    ) -> tuple[int, dict[str, str], bytes]:
        reader, writer = connection
        payload = json.dumps(body).encode() if body is not None else b""
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self._host}", f"Content-Length: {len(payload)}"]
        if body is not None:
            lines.append("Content-Type: application/json")
        if token:
            lines.append(f"Authorization: Bearer {token}")
        lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + payload)
        status_line = await asyncio.wait_for(reader.readline(), HTTP_TIMEOUT_SECONDS)
        if not status_line:
            raise ConnectionResetError("closed by the runner")
        answer_headers: dict[str, str] = {}
        while (line := await reader.readline()) not in (b"\r\n", b"\n", b""):
            name, _, value = line.decode().partition(":")
            answer_headers[name.strip().lower()] = value.strip()
        raw = await reader.readexactly(int(answer_headers.get("content-length", "0")))
        return int(status_line.split()[1]), answer_headers, raw


@dataclass
class Pools:
    crowd: Pool  # joins and the crowd's polls
    buying: Pool  # what admitted buyers do: their token, holds, bookings, payments


class PublicState:
    """The room's public state as a CDN serves it: one fetch per `max-age` (its Cache-Control) for everyone.

    There is no CDN locally, so this is the CDN: every waiting buyer reads this one copy, as every browser
    behind one edge would. Each buyer registers its own join time or pre-queue key (from its join answer) and
    is woken when the state says it is admitted (its key below `preQueueKeyBelow`, or its join time before
    `joinedBeforeMicros`) or sold out, which is what docs/waiting-room.md asks a front end to do."""

    def __init__(self, pool: Pool, event_id: UUID) -> None:
        self._pool, self._path = pool, f"/api/events/{event_id}/queue"
        self.sold_out_at: float | None = None
        self.ended: str | None = None  # "sold-out" or "timeout" once the state said so
        self.max_age = 1.0
        self.fetches = 0
        self.fetch_seconds: list[float] = []
        self._pre: list[tuple[float, int, asyncio.Future[str]]] = []
        self._line: list[tuple[int, int, asyncio.Future[str]]] = []
        self._tickets = 0
        self.admitted_order: list[str] = []  # line joiners, in the order the state admitted them

    def wait(self, place: dict[str, Any], user: str) -> asyncio.Future[str]:
        """Resolves to "admitted", "sold-out" or "timeout" (at once when the state already said the last two:
        a join answered from a room's state cached just before it sold out still says WAITING)."""
        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        if self.ended is not None:
            future.set_result(self.ended)
            return future
        future.add_done_callback(lambda done: self._admitted(done, place, user))
        self._tickets += 1
        if place["preQueueKey"] is not None:
            heapq.heappush(self._pre, (place["preQueueKey"], self._tickets, future))
        else:
            heapq.heappush(self._line, (place["joinedAtMicros"], self._tickets, future))
        return future

    def _admitted(self, done: asyncio.Future[str], place: dict[str, Any], user: str) -> None:
        if not done.cancelled() and done.result() == "admitted" and place["preQueueKey"] is None:
            self.admitted_order.append(user)

    async def run(self, until: asyncio.Event) -> None:
        deadline = time.monotonic() + ROOM_DEADLINE_SECONDS
        while not until.is_set() and self.sold_out_at is None:
            if time.monotonic() > deadline:
                self._end_all("timeout")
                return
            try:
                answer = await self._pool.request("public state", "GET", self._path)
            except CLIENT_ERRORS:
                answer = Answer(0, {}, None, 0.0)
            self.fetches += 1
            self.fetch_seconds.append(answer.seconds)
            if answer.status == 200:
                self._apply(answer.body)
            max_age = answer.headers.get("cache-control", "max-age=1").split("max-age=")[-1].split(",")[0]
            self.max_age = float(max_age) if max_age.isdigit() else 1.0
            await asyncio.sleep(self.max_age)

    def _apply(self, state: dict[str, Any]) -> None:
        if state["state"] == "SOLD_OUT":
            self.sold_out_at = time.monotonic()
            self._end_all("sold-out")
            return
        while self._pre and self._pre[0][0] < state["preQueueKeyBelow"]:
            self._resolve(heapq.heappop(self._pre)[2])
        if state["preQueueKeyBelow"] >= 1:
            while self._line and self._line[0][0] < state["joinedBeforeMicros"]:
                self._resolve(heapq.heappop(self._line)[2])

    def _end_all(self, outcome: str) -> None:
        self.ended = outcome
        for queue in (self._pre, self._line):
            for *_, future in queue:
                if not future.done():
                    future.set_result(outcome)
            queue.clear()

    @staticmethod
    def _resolve(future: asyncio.Future[str]) -> None:
        if not future.done():
            future.set_result("admitted")


async def _until_not_locked(request: Callable[[], Awaitable[Answer]]) -> Answer:
    """A request retried while it answers 409 SEATS_LOCKED (someone else's transaction holds a seat right now:
    the API says to retry), at most MAX_ATTEMPTS times, a second apart."""
    for _ in range(MAX_ATTEMPTS - 1):
        answer = await request()
        if answer.status != 409 or answer.body["error"]["code"] != "SEATS_LOCKED":
            return answer
        await asyncio.sleep(1)
    return await request()


def _code(answer: Answer) -> str:
    return str(answer.body["error"]["code"]) if answer.status >= 400 and answer.body else ""


async def buy(pool: Pool, event_id: UUID, token: str, admission: str | None, tally: Tally) -> str:
    """hold-best, create, pay; answers how it ended: bought, sold-out, or gave-up (why: in the tally)."""
    extra = {"X-Admission-Token": admission} if admission else None
    event = {"eventId": str(event_id)}
    quantity = SEATS_PER_BUYER

    async def hold_best() -> Answer:
        answer = await pool.request(
            "hold-best", "POST", "/api/bookings/hold-best", token, {**event, "quantity": quantity}, extra
        )
        tally.holds.append(answer.seconds)
        return answer

    while (hold := await _until_not_locked(hold_best)).status != 200:
        if _code(hold) != "NO_ADJACENT_SEATS":
            return tally.give_up(f"hold-best {hold.status} {_code(hold)}")
        # Two together are gone: a buyer takes what is left, down to a single seat.
        quantity = int(hold.body["error"]["details"].get("largestBlock", 0))
        if quantity == 0:
            return "sold-out"
    booking = await _until_not_locked(
        lambda: pool.request("create", "POST", "/api/bookings/create", token, event, extra)
    )
    if booking.status != 201:
        # A buyer who gives up lets go of its seats (and so ends its session), as docs/waiting-room.md asks.
        released = await _until_not_locked(
            lambda: pool.request("release", "POST", "/api/bookings/release-seats", token, event)
        )
        return tally.give_up(f"create {booking.status} {_code(booking)}, release {released.status}")
    pay = {"paymentToken": "tok_visa", "amount": booking.body["total"], "version": booking.body["version"]}
    paid = await pool.request("confirm", "POST", f"/api/bookings/{booking.body['id']}/confirm", token, pay)
    if paid.status == 200:
        tally.bought += 1
        return "bought"
    cancelled = await pool.request("cancel", "POST", f"/api/bookings/{booking.body['id']}/cancel", token, {})
    return tally.give_up(f"confirm {paid.status} {_code(paid)}, cancel {cancelled.status}")


async def room_buyer(pools: Pools, public: PublicState, event_id: UUID, user: str, token: str, tally: Tally) -> None:
    """Join, wait on the public state, take the admission token, buy."""
    joined = await pools.crowd.request("join", "POST", f"/api/events/{event_id}/queue", token)
    if joined.status not in (200, 201):
        tally.unanswered += 1
        return
    place = joined.body
    if place["state"] == "SOLD_OUT":
        tally.sold_out_at_join += 1  # joined after the last seat went: told at once, never waited
        return
    answered = time.monotonic()
    if place["preQueueKey"] is None:
        # The order they joined in is the order the API accepted them: the order its answers came back.
        tally.joined.append((answered, user))
    else:
        tally.pre_queue_joins += 1
    if place["state"] in ("PRE_QUEUE", "WAITING"):
        outcome = await public.wait(place, user)
        if outcome == "sold-out" and public.sold_out_at is not None and answered >= public.sold_out_at:
            tally.sold_out_at_join += 1  # joined after the room said SOLD_OUT: never waited for a seat
            return
        if outcome == "sold-out":
            tally.sold_out_told.append(time.monotonic())
            return
        if outcome == "timeout":
            tally.unanswered += 1
            return
    # Admitted by the public state: ask for the token after a random part of its max-age, so a tick's batch
    # reaches the buying path spread out rather than at once.
    await asyncio.sleep(random.uniform(0, public.max_age))
    for _ in range(MAX_ATTEMPTS * 4):
        mine = await pools.buying.request("queue/me", "GET", f"/api/events/{event_id}/queue/me", token)
        if mine.status != 200:
            tally.unanswered += 1
            return
        place = mine.body
        if place["state"] not in ("PRE_QUEUE", "WAITING"):
            break
        await asyncio.sleep(MIN_RETRY_SECONDS)
    if place["state"] == "SOLD_OUT":
        tally.sold_out_told.append(time.monotonic())
    elif place["state"] == "ADMITTED":
        if await buy(pools.buying, event_id, token, place["admission"]["token"], tally) == "sold-out":
            tally.found_nothing += 1
    else:
        tally.give_up(f"queue/me {place['state']}")


Buyer = Callable[[Pools, "PublicState | None", str, str], Awaitable[None]]


async def crowd(
    base_url: str,
    buyers: list[tuple[UUID, str]],
    one: Buyer,
    tally: Tally,
    arrival_seconds: float,
    watch_event: UUID | None = None,
) -> float:
    """Every buyer arrives, spread evenly over `arrival_seconds`, and does `one`; answers the wall time."""
    pools = Pools(crowd=Pool(base_url, CONNECTIONS, tally), buying=Pool(base_url, BUYING_CONNECTIONS, tally))
    started = time.monotonic()
    done = asyncio.Event()
    # The CDN has its own connection to the API: its fetches never queue behind the buyers' requests.
    watch = PublicState(Pool(base_url, 1, tally), watch_event) if watch_event else None
    watcher = asyncio.create_task(watch.run(done)) if watch else None

    async def arrive(index: int, user: UUID, token: str) -> None:
        await asyncio.sleep(index * arrival_seconds / len(buyers))
        with contextlib.suppress(*CLIENT_ERRORS):  # counted by the pool
            await one(pools, watch, str(user), token)

    await asyncio.gather(*(arrive(index, user, token) for index, (user, token) in enumerate(buyers)))
    done.set()
    if watcher:
        await watcher
    if watch is not None:
        tally.admitted_order = watch.admitted_order
        tally.public_fetches = watch.fetches
        tally.public_fetch_seconds = watch.fetch_seconds
    return time.monotonic() - started
