"""Catalog at stadium scale through the real handlers: a 500 x 200 section (100,000 seats), an event on it,
its seat map and its compact status (plain, gzipped, revalidated), and the cost of the seat-change counter on
a 100,000-seat hold and release. Then once: an event on a 500,000-seat venue and the status of a
1,000,000-seat event (4 sections of 500 x 500). Medians of RUNS runs go to bench/results/catalog.md.
"""

from __future__ import annotations

import gzip
import os
import secrets
import statistics
import time
import zlib
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from bench.harness import bench_setup, write_results

RUNS = 3
ROWS, SEATS_PER_ROW = 500, 200
REPO_ROOT = Path(__file__).resolve().parents[1]
RESULTS = REPO_ROOT / "bench" / "results" / "catalog.md"


def _timed(action: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


def _account(api: Any, role: str) -> str:
    from ticketing.db import transaction

    email = f"{role.lower()}-{secrets.token_hex(4)}@example.com"
    registered = api.post("/api/auth/register", json={"email": email, "password": "bench-password", "name": role})
    assert registered.status == 201, registered.body
    with transaction() as tx:
        tx.execute("UPDATE users SET role = :role WHERE email = :email", role=role, email=email)
    login = api.post("/api/auth/login", json={"email": email, "password": "bench-password"})
    return str(login.json()["accessToken"])


def _one_run(api: Any, admin: str, organizer: str, run: int) -> dict[str, float]:
    venue = api.post(
        "/api/venues",
        json={"name": f"Stadium {run}", "address": "1 Ring", "city": "Rome", "country": "IT", "timezone": "UTC"},
        token=admin,
    ).json()
    section_seconds, section = _timed(
        lambda: api.post(
            f"/api/venues/{venue['id']}/sections",
            json={"name": "Bowl", "rows": ROWS, "seatsPerRow": SEATS_PER_ROW, "defaultPrice": 5000},
            token=admin,
        )
    )
    assert section.status == 201, section.body
    event_seconds, event_id = _event_on(api, organizer, venue["id"], f"Final {run}")
    seats = f"/api/events/{event_id}/seats"
    section_id = section.json()["id"]
    gzip_seconds, gzipped = _timed(lambda: api.get(seats, token=organizer, headers={"Accept-Encoding": "gzip"}))
    assert gzipped.status == 200, gzipped.body
    raw = gzip.decompress(gzipped.body)
    plain_seconds, plain = _timed(lambda: api.get(seats, token=organizer))
    section_seconds_gzip, by_section = _timed(
        lambda: api.get(seats, token=organizer, query={"sectionId": section_id}, headers={"Accept-Encoding": "gzip"})
    )
    assert by_section.status == 200
    held_seconds, held = _timed(lambda: api.get(seats, token=organizer, query={"status": "HELD"}))
    assert held.status == 200
    etag = gzipped.header("ETag")
    revalidate_seconds, revalidated = _timed(
        lambda: api.get(seats, token=organizer, headers={"Accept-Encoding": "gzip", "If-None-Match": etag or ""})
    )
    assert revalidated.status == 304
    status = f"/api/events/{event_id}/seats/status"
    status_plain_seconds, status_plain = _timed(lambda: api.get(status, token=organizer))
    assert status_plain.status == 200, status_plain.body
    status_gzip_seconds, status_gzip = _timed(
        lambda: api.get(status, token=organizer, headers={"Accept-Encoding": "gzip"})
    )
    status_304_seconds, status_304 = _timed(
        lambda: api.get(
            status,
            token=organizer,
            headers={"Accept-Encoding": "gzip", "If-None-Match": status_gzip.header("ETag") or ""},
        )
    )
    assert status_304.status == 304
    levels = {}
    for level in (1, 6, 9):
        seconds, compressed = _timed(partial(zlib.compress, raw, level))
        levels[f"gzip level {level} (s)"] = seconds
        levels[f"gzip level {level} (bytes)"] = len(compressed)
    return {
        "section create, 100,000 seats (s)": section_seconds,
        "event create, 100,000 event seats (s)": event_seconds,
        "seat map, gzip (s)": gzip_seconds,
        "seat map ?sectionId=, gzip (s)": section_seconds_gzip,
        "seat map without gzip -> 413 (s)": plain_seconds,
        "seat map ?status=HELD, plain (s)": held_seconds,
        "seat map 304 revalidation (s)": revalidate_seconds,
        "seat map raw JSON (bytes)": len(raw),
        "seat map gzipped (bytes)": len(gzipped.body),
        "seat map gzipped as base64 in the Lambda response (bytes)": len(gzipped.body) * 4 / 3,
        "plain status": plain.status,
        **levels,
        "status, 100,000 seats, plain (s)": status_plain_seconds,
        "status, 100,000 seats, gzip (s)": status_gzip_seconds,
        "status, 100,000 seats, 304 revalidation (s)": status_304_seconds,
        "status, 100,000 seats, plain (bytes)": len(status_plain.body),
        "status, 100,000 seats, gzip (bytes)": len(status_gzip.body),
        **_counter_cost(event_id),
    }


def _seat_update_seconds(event_id: str, assignment: str, *, seats: str = "") -> float:
    """One UPDATE of the event's seats (all, or the `seats` condition) in its own transaction, commit included."""
    from ticketing.db import transaction

    with transaction() as tx:
        organizer = tx.value("SELECT organizer_id FROM events WHERE id = :id", id=event_id)
        # One statement over 100,000 seats may outlast the API's statement timeout on a busy machine.
        tx.execute("SET LOCAL statement_timeout = 0")
        started = time.perf_counter()
        tx.execute(f"UPDATE event_seats SET {assignment} WHERE event_id = :id{seats}", id=event_id, user=organizer)
    return time.perf_counter() - started


def _set_counter(enabled: bool) -> None:
    from ticketing.db import transaction

    with transaction() as tx:
        tx.execute(f"ALTER TABLE event_seats {'ENABLE' if enabled else 'DISABLE'} TRIGGER event_seats_count_changes")


_HOLD_ALL = "status = 'HELD', held_by = :user, held_until = now() + interval '10 minutes'"
_RELEASE_ALL = "status = 'AVAILABLE', held_by = NULL, held_until = NULL"


def _counter_cost(event_id: str) -> dict[str, float]:
    """One statement holding all 100,000 seats and one releasing them (as an expiry would), with and without
    the statement-level trigger that counts seat changes (migration 0007)."""
    with_hold = _seat_update_seconds(event_id, _HOLD_ALL)
    with_release = _seat_update_seconds(event_id, _RELEASE_ALL)
    _set_counter(False)
    try:
        without_hold = _seat_update_seconds(event_id, _HOLD_ALL)
        without_release = _seat_update_seconds(event_id, _RELEASE_ALL)
    finally:
        _set_counter(True)
    # The common case: many small holds. One seat per statement, in blocks with the counter on and off in turn.
    small: dict[bool, list[float]] = {True: [], False: []}
    try:
        for block in range(SMALL_HOLD_BLOCKS):
            counter_on = block % 2 == 0
            _set_counter(counter_on)
            for index in range(block * SMALL_HOLD_BLOCK, (block + 1) * SMALL_HOLD_BLOCK):
                seat = f" AND seat_index = {index}"
                small[counter_on].append(_seat_update_seconds(event_id, _HOLD_ALL, seats=seat))
    finally:
        _set_counter(True)
    return {
        "hold one seat per UPDATE and commit, change counter on (s)": statistics.median(small[True]),
        "hold one seat per UPDATE and commit, change counter off (s)": statistics.median(small[False]),
        "hold 100,000 seats in one UPDATE, change counter on (s)": with_hold,
        "hold 100,000 seats in one UPDATE, change counter off (s)": without_hold,
        "release 100,000 held seats in one UPDATE, change counter on (s)": with_release,
        "release 100,000 held seats in one UPDATE, change counter off (s)": without_release,
    }


STADIUM_SECTIONS, STADIUM_SIDE = 4, 500
SMALL_HOLD_BLOCKS, SMALL_HOLD_BLOCK = 8, 50
STATUS_RUNS = 3


def _event_body(venue_id: str, title: str) -> dict[str, str]:
    """The stadium event, the same through the API and through the domain service."""
    return {
        "venueId": venue_id,
        "title": title,
        "category": "SPORT",
        "startsAt": "2099-06-01T18:00:00Z",
        "endsAt": "2099-06-01T20:00:00Z",
        "currency": "EUR",
    }


def _event_on(api: Any, organizer: str, venue_id: str, title: str) -> tuple[float, str]:
    seconds, event = _timed(
        lambda: api.post(
            "/api/events",
            json=_event_body(venue_id, title),
            token=organizer,
        )
    )
    assert event.status == 201, event.body
    return seconds, str(event.json()["id"])


def _event_in_process(venue_id: str, title: str) -> tuple[float, str]:
    """Creates the event through the domain service, as its handler does, but without the 29 s invocation
    limit of the runner, so a busy machine still shows how long it takes."""
    from uuid import UUID

    from ticketing.auth.principal import Principal, Role
    from ticketing.catalog.events import service
    from ticketing.catalog.events.models import EventCreate
    from ticketing.db import transaction

    with transaction() as tx:
        organizer_id = tx.value("SELECT id FROM users WHERE role = 'ORGANIZER' ORDER BY created_at LIMIT 1")
    body = EventCreate.model_validate(_event_body(venue_id, title))
    organizer = Principal(user_id=UUID(str(organizer_id)), role=Role.ORGANIZER)
    seconds, event = _timed(partial(service.create_event, organizer, body))
    return seconds, str(event.id)


def _stadium(api: Any, admin: str, organizer: str) -> dict[str, list[float]]:
    """Once: 500 x 500 sections; an event when the venue has two of them (500,000 seats), another when it has
    four (1,000,000 seats), and the compact status of the latter."""
    venue = api.post(
        "/api/venues",
        json={"name": "Mega Bowl", "address": "1 Ring", "city": "Rome", "country": "IT", "timezone": "UTC"},
        token=admin,
    ).json()
    section_seconds: list[float] = []
    results: dict[str, list[float]] = {}
    for number in range(1, STADIUM_SECTIONS + 1):
        body = {"name": f"Stand {number}", "rows": STADIUM_SIDE, "seatsPerRow": STADIUM_SIDE, "defaultPrice": 100}
        seconds, section = _timed(partial(api.post, f"/api/venues/{venue['id']}/sections", json=body, token=admin))
        assert section.status == 201, section.body
        section_seconds.append(seconds)
        print(f"stadium section {number}: {seconds:.1f} s", flush=True)
        if number == STADIUM_SECTIONS // 2:
            seconds, _ = _event_in_process(venue["id"], "Half Bowl")
            results["event create, 500,000 event seats (s)"] = [seconds]
            print(f"event on 500,000 seats: {seconds:.1f} s", flush=True)
    results["section create, 500 x 500 = 250,000 seats (s)"] = section_seconds
    seconds, event_id = _event_in_process(venue["id"], "Full Bowl")
    results["event create, 1,000,000 event seats (s)"] = [seconds]
    print(f"event on 1,000,000 seats: {seconds:.1f} s", flush=True)
    status = f"/api/events/{event_id}/seats/status"
    for name, headers in (("plain", {}), ("gzip", {"Accept-Encoding": "gzip"})):
        runs = [_timed(partial(api.get, status, token=organizer, headers=headers)) for _ in range(STATUS_RUNS)]
        assert all(response.status == 200 for _, response in runs)
        results[f"status, 1,000,000 seats, {name} (s)"] = [seconds for seconds, _ in runs]
        results[f"status, 1,000,000 seats, {name} (bytes)"] = [len(runs[0][1].body)]
        etag = runs[0][1].header("ETag") or ""
    revalidations = [
        _timed(lambda: api.get(status, token=organizer, headers={"Accept-Encoding": "gzip", "If-None-Match": etag}))
        for _ in range(STATUS_RUNS)
    ]
    assert all(response.status == 304 for _, response in revalidations)
    results["status, 1,000,000 seats, 304 revalidation (s)"] = [seconds for seconds, _ in revalidations]
    return results


def _format(name: str, values: list[float]) -> str:
    median = statistics.median(values)
    if name.endswith("(s)"):
        return f"| {name} | {median * 1000:,.0f} ms | {min(values) * 1000:,.0f} to {max(values) * 1000:,.0f} ms |"
    if name.endswith("(bytes)"):
        return f"| {name} | {median / 1_000_000:,.2f} MB | |"
    return f"| {name} | {median:g} | |"


def main() -> None:
    # One 250,000-row statement can outlast the API's 20 s statement timeout when the machine is shared and
    # busy; the bench measures how long it takes rather than failing.
    os.environ.setdefault("DB_STATEMENT_TIMEOUT_MS", "120000")
    with bench_setup("catalog_bench") as setup:
        api, postgres_version = setup.api, setup.postgres_version
        admin, organizer = _account(api, "ADMIN"), _account(api, "ORGANIZER")
        runs = []
        for run in range(1, RUNS + 1):
            runs.append(_one_run(api, admin, organizer, run))
            print(f"run {run}/{RUNS}: " + ", ".join(f"{k}={v:.3f}" for k, v in runs[-1].items() if k.endswith("(s)")))
        stadium = _stadium(api, admin, organizer)
    header = [
        "# Catalog benchmark",
        "",
        f"`make bench` (bench/catalog_bench.py): a {ROWS} x {SEATS_PER_ROW} section ({ROWS * SEATS_PER_ROW:,} seats)",
        "and an event on it, through the real Lambda handlers in-process (template routing, proxy events,",
        "embedded PostgreSQL on the same machine, no network). Median of "
        f"{RUNS} runs, with the range. Sizes are of one map. The stadium rows (500 x 500 sections) ran once each,"
        f" the 1,000,000-seat status {STATUS_RUNS} times.",
    ]
    rows = [_format(name, [run[name] for run in runs]) for name in runs[0]]
    rows += [_format(name, values) for name, values in stadium.items()]
    write_results(RESULTS, header, postgres_version, rows)


if __name__ == "__main__":
    main()
