"""What the edge's input checks cost (ticketing.http.inbound), against the floor of parsing the same body with
json.loads alone, and what a flood of unknown keys costs end to end. Results go to bench/results/edge.md.
"""

from __future__ import annotations

import base64
import json
import statistics
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.harness import bench_setup, write_results

RUNS = 7
REPO_ROOT = Path(__file__).resolve().parents[1]
RESULTS = REPO_ROOT / "bench" / "results" / "edge.md"


def _median_seconds(action: Callable[[], Any], repeat: int) -> tuple[float, float, float]:
    """Median, min and max over RUNS runs of the mean time of one call (each run calls `repeat` times)."""
    samples = []
    for _ in range(RUNS):
        started = time.perf_counter()
        for _ in range(repeat):
            action()
        samples.append((time.perf_counter() - started) / repeat)
    return statistics.median(samples), min(samples), max(samples)


def _event(body: bytes) -> dict[str, Any]:
    # As API Gateway delivers it with BinaryMediaTypes */*: base64.
    return {
        "headers": {"Content-Type": "application/json"},
        "queryStringParameters": {"page": "1"},
        "body": base64.b64encode(body).decode("ascii"),
        "isBase64Encoded": True,
    }


def _row(name: str, stats: tuple[float, float, float], unit: str = "µs", scale: float = 1e6) -> str:
    median, low, high = (value * scale for value in stats)
    return f"| {name} | {median:,.1f} {unit} | {low:,.1f}-{high:,.1f} |"


def main() -> None:
    from ticketing.http.inbound import admitted_event

    hold = json.dumps({"eventId": str(uuid.uuid4()), "seatIds": [str(uuid.uuid4()) for _ in range(10)]}).encode()
    # Close to the 1 MiB limit: 20,000 seat-id strings.
    big = json.dumps({"eventId": str(uuid.uuid4()), "seatIds": [str(uuid.uuid4()) for _ in range(20_000)]}).encode()
    rows = [
        _row("hold body (10 seats), json.loads floor", _median_seconds(lambda: json.loads(hold), 2000)),
        _row("hold body (10 seats), edge checks", _median_seconds(lambda: admitted_event(_event(hold)), 2000)),
        _row(
            f"{len(big) / 1024:,.0f} KiB body, json.loads floor",
            _median_seconds(lambda: json.loads(big), 20),
            "ms",
            1e3,
        ),
        _row(
            f"{len(big) / 1024:,.0f} KiB body, edge checks",
            _median_seconds(lambda: admitted_event(_event(big)), 20),
            "ms",
            1e3,
        ),
    ]
    with bench_setup("edge_bench") as setup:
        flood = json.dumps(
            {"email": "a@example.com", "password": "long-enough-1", "name": "A"} | {f"u{i}": 0 for i in range(60_000)}
        ).encode()
        answer = setup.api.post("/api/auth/register", body=flood, headers={"Content-Type": "application/json"})
        assert answer.status == 422, answer.body
        rows.append(
            _row(
                f"60,000 unknown keys ({len(flood) / 1024:,.0f} KiB) → 422 of {len(answer.body)} bytes, whole request",
                _median_seconds(
                    lambda: setup.api.post(
                        "/api/auth/register", body=flood, headers={"Content-Type": "application/json"}
                    ),
                    1,
                ),
                "ms",
                1e3,
            )
        )
        postgres_version = setup.postgres_version
    header = [
        "# Edge benchmark",
        "",
        "`make bench` (bench/edge_bench.py): the input checks every request passes before routing",
        "(base64 decode, UTF-8, JSON parse without NaN, depth and NUL walk), against json.loads of the same body;",
        f"and a body of 60,000 unknown keys through the real handler in-process. Median of {RUNS} runs (each the",
        "mean of many calls), with the range.",
    ]
    write_results(RESULTS, header, postgres_version, rows)


if __name__ == "__main__":
    main()
