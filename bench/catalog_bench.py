"""Catalog at stadium scale through the real handlers: a 500 x 200 section (100,000 seats), an event on it,
and its seat map (plain, gzipped, revalidated). Medians of RUNS runs go to bench/results/catalog.md.
"""

from __future__ import annotations

import gzip
import secrets
import statistics
import time
import zlib
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from bench.harness import bench_setup, write_results

RUNS = 5
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
    event_seconds, event = _timed(
        lambda: api.post(
            "/api/events",
            json={
                "venueId": venue["id"],
                "title": f"Final {run}",
                "category": "SPORT",
                "startsAt": "2099-06-01T18:00:00Z",
                "endsAt": "2099-06-01T20:00:00Z",
                "currency": "EUR",
            },
            token=organizer,
        )
    )
    assert event.status == 201, event.body
    seats = f"/api/events/{event.json()['id']}/seats"
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
    }


def _format(name: str, values: list[float]) -> str:
    median = statistics.median(values)
    if name.endswith("(s)"):
        return f"| {name} | {median * 1000:,.0f} ms | {min(values) * 1000:,.0f} to {max(values) * 1000:,.0f} ms |"
    if name.endswith("(bytes)"):
        return f"| {name} | {median / 1_000_000:,.2f} MB | |"
    return f"| {name} | {median:g} | |"


def main() -> None:
    with bench_setup("catalog_bench") as setup:
        api, postgres_version = setup.api, setup.postgres_version
        admin, organizer = _account(api, "ADMIN"), _account(api, "ORGANIZER")
        runs = []
        for run in range(1, RUNS + 1):
            runs.append(_one_run(api, admin, organizer, run))
            print(f"run {run}/{RUNS}: " + ", ".join(f"{k}={v:.3f}" for k, v in runs[-1].items() if k.endswith("(s)")))
    header = [
        "# Catalog benchmark",
        "",
        f"`make bench` (bench/catalog_bench.py): a {ROWS} x {SEATS_PER_ROW} section ({ROWS * SEATS_PER_ROW:,} seats)",
        "and an event on it, through the real Lambda handlers in-process (template routing, proxy events,",
        "embedded PostgreSQL on the same machine, no network). Median of "
        f"{RUNS} runs, with the range. Sizes are of one map.",
    ]
    write_results(RESULTS, header, postgres_version, [_format(name, [run[name] for run in runs]) for name in runs[0]])


if __name__ == "__main__":
    main()
