"""`python -m bench limits`: what a refused request costs (docs/security.md, "Rate limits").

In-process, through the API Gateway event and the function's handler, against moto's DynamoDB server (a child
process) as the limit store: CPU ms of this process per request and wall ms (the store's round trip included)
for a hold-seats refused by the per-account limit and a register refused by the per-address limit, next to
the floor measured in the same run: the same hold-seats refused 401 without a token (no limit, no store). The
limiter's clock is pinned, so every measured call falls in one window and is refused.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from typing import Any

from bench.harness import REPO_ROOT, bench_setup, replace_doc_section, write_results

CALLS = 300
RESULTS = REPO_ROOT / "bench" / "results" / "limits.md"
HOLD = "/api/bookings/hold-seats"
UNKNOWN_EVENT = "6f1c2b0e-9d8a-4c7b-a6e5-d4c3b2a1f0e9"


def _measure(call: Callable[[], Any], expected: int) -> tuple[list[float], list[float]]:
    """CPU and wall seconds of each of CALLS calls, each checked for its status."""
    cpu: list[float] = []
    wall: list[float] = []
    for _ in range(CALLS):
        cpu_start, wall_start = time.process_time(), time.perf_counter()
        response = call()
        cpu.append(time.process_time() - cpu_start)
        wall.append(time.perf_counter() - wall_start)
        assert response.status == expected, response.body
    return cpu, wall


def _row(name: str, seconds: list[float], floor: float) -> str:
    ordered = sorted(seconds)
    median = statistics.median(ordered)
    return (
        f"| {name} | {median * 1000:.2f} ms ({median / floor:.1f}x floor) | "
        f"{ordered[len(ordered) // 20] * 1000:.2f}-{ordered[-len(ordered) // 20] * 1000:.2f} ms (p5-p95) |"
    )


def main() -> None:
    os.environ["RATE_LIMIT_ACCOUNT_PER_MINUTE"] = "1"
    os.environ["RATE_LIMIT_ADDRESS_PER_MINUTE"] = "1"
    from devtools.local_dynamodb import dynamodb_server, use_local_dynamodb

    with bench_setup("limits_bench") as setup, dynamodb_server() as dynamodb_url:
        use_local_dynamodb(dynamodb_url)
        from ticketing import rate_limits

        pinned = time.time()
        rate_limits.now = lambda: pinned
        api = setup.api
        registered = api.post(
            "/api/auth/register", json={"email": "bot@example.com", "password": "correct-horse-9", "name": "Bot"}
        )
        assert registered.status == 201, registered.body
        token = registered.json()["accessToken"]
        hold = {"eventId": UNKNOWN_EVENT, "seatIds": [UNKNOWN_EVENT]}
        assert api.post(HOLD, json=hold, token=token).status == 404  # the account's one call of the window

        floor_cpu, floor_wall = _measure(lambda: api.post(HOLD, json=hold), 401)
        hold_cpu, hold_wall = _measure(lambda: api.post(HOLD, json=hold, token=token), 429)
        register = {"email": "bot2@example.com", "password": "correct-horse-9", "name": "Bot"}
        register_cpu, register_wall = _measure(lambda: api.post("/api/auth/register", json=register), 429)

        cpu_floor, wall_floor = statistics.median(floor_cpu), statistics.median(floor_wall)
        rows = [
            _row("CPU, floor: hold-seats without a token (401)", floor_cpu, cpu_floor),
            _row("CPU, hold-seats refused by the account limit (429)", hold_cpu, cpu_floor),
            _row("CPU, register refused by the address limit (429)", register_cpu, cpu_floor),
            _row("wall, floor (401)", floor_wall, wall_floor),
            _row("wall, hold-seats refused (429)", hold_wall, wall_floor),
            _row("wall, register refused (429)", register_wall, wall_floor),
        ]
        header = [
            "# Limits: the cost of a refused request",
            "",
            f"{CALLS} calls each, in-process through the handler; the limit store is moto's DynamoDB server on",
            "loopback (one conditional UpdateItem per refused call). CPU is this process's only.",
        ]
        write_results(RESULTS, header, setup.postgres_version, rows)
        replace_doc_section(
            "Rate limits: the cost of a refused request",
            [
                f"`python -m bench limits` ({CALLS} calls each; results: `bench/results/limits.md`). A refusal is",
                "one conditional DynamoDB write and no database work; the floor is the same route refused 401.",
                "",
                "| measure | median | range |",
                "|---|---|---|",
                *rows,
            ],
        )


if __name__ == "__main__":
    main()
