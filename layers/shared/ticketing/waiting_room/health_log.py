"""The buying path's health samples in the waiting room's table (docs/waiting-room.md, the rate).

Item: pk `HEALTH#<event>`, sk `<window>#<environment>`: what one buying environment saw in one window (calls,
bad answers, p99, bookings, releases), written at most once per window per environment; expires after an hour.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from ticketing.waiting_room import store

HEALTH_SAMPLE_TTL_SECONDS = 3600


@dataclass(frozen=True)
class HealthSample:
    calls: int
    bad: int
    p99_ms: float
    booked: int
    released: int = 0


def put_health_sample(event_id: UUID, moment: int, environment: str, sample: HealthSample) -> None:
    """What one environment saw since its last sample, keyed by the moment (s) it is written."""
    store.call(
        "put_item",
        Item={
            "pk": {"S": f"HEALTH#{event_id}"},
            "sk": {"S": f"{moment:012d}#{environment}"},
            "calls": {"N": str(sample.calls)},
            "bad": {"N": str(sample.bad)},
            "p99": {"N": f"{sample.p99_ms:.1f}"},
            "booked": {"N": str(sample.booked)},
            "released": {"N": str(sample.released)},
            "expires": {"N": str(moment + HEALTH_SAMPLE_TTL_SECONDS)},
        },
    )


def health_samples(event_id: UUID, after: str) -> list[tuple[str, HealthSample]]:
    """(key, sample) of the samples keyed after `after` (a key, or a moment as 12 digits), oldest first."""
    items = store.query_all(
        KeyConditionExpression="pk = :pk AND sk > :after",
        ExpressionAttributeValues={":pk": {"S": f"HEALTH#{event_id}"}, ":after": {"S": after or "0"}},
    )
    return [
        (
            item["sk"]["S"],
            HealthSample(
                int(item["calls"]["N"]),
                int(item["bad"]["N"]),
                float(item["p99"]["N"]),
                int(item["booked"]["N"]),
                int(item.get("released", {"N": "0"})["N"]),
            ),
        )
        for item in items
    ]


def moment_key(moment: float) -> str:
    return f"{int(moment):012d}"
