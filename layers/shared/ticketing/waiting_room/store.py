"""The queue in DynamoDB (WAITING_ROOM_TABLE): one item per place, one per room, a few health samples.

Items (one table, string keys `pk`/`sk`; docs/waiting-room.md draws them):
- a place: pk `PLACE#<event>#<account>`. Its own partition, so joins spread over the table; joining is a
  conditional put (`attribute_not_exists(pk)`): one place per account and event, whatever the tabs.
  Its line key (GSI `line`: `lpk`, `lsk`) orders it: before the sale `PRE#<event>#<stripe>` with a random
  key, after the sale's start `LINE#<event>#<stripe>` with its join time. Stripes (LINE_STRIPES) keep any
  one index partition far below DynamoDB's ~1,000 writes/s per partition key; the controller merges them.
- the room: pk `ROOM#<event>`, sk `STATE`: the controller's state as one JSON attribute, `paused` apart
  (organizers set it, the controller only reads it). One write per tick, whatever the crowd.
- health samples: pk `HEALTH#<event>`, sk `<window>#<environment>`: what one buying environment saw in one
  window (calls, bad answers, p95, bookings), written at most once per window per environment.

The client is created on first use with explicit timeouts and bounded retries, well inside any caller's own
timeout; locally and in tests boto3 reaches moto's server through AWS_ENDPOINT_URL_DYNAMODB.
"""

from __future__ import annotations

import json
import secrets
import zlib
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from uuid import UUID

from ticketing.config import get_settings
from ticketing.errors import ServiceUnavailable

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

LINE_STRIPES = 8
LINE_INDEX = "line"
# Bounded in time, far below the 15 s of the shortest caller (the API functions): 1 s to connect, 2 s to read,
# two attempts in all.
CONNECT_TIMEOUT_SECONDS = 1.0
READ_TIMEOUT_SECONDS = 2.0
MAX_ATTEMPTS = 2
BATCH_WRITE_LIMIT = 25
HEALTH_SAMPLE_TTL_SECONDS = 3600

TABLE_DEFINITION: dict[str, Any] = {
    "AttributeDefinitions": [
        {"AttributeName": "pk", "AttributeType": "S"},
        {"AttributeName": "sk", "AttributeType": "S"},
        {"AttributeName": "lpk", "AttributeType": "S"},
        {"AttributeName": "lsk", "AttributeType": "S"},
    ],
    "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
    "GlobalSecondaryIndexes": [
        {
            "IndexName": LINE_INDEX,
            "KeySchema": [{"AttributeName": "lpk", "KeyType": "HASH"}, {"AttributeName": "lsk", "KeyType": "RANGE"}],
            "Projection": {"ProjectionType": "ALL"},
        }
    ],
    "BillingMode": "PAY_PER_REQUEST",
}


class StoreUnavailable(ServiceUnavailable):
    code = "WAITING_ROOM_UNAVAILABLE"

    def __init__(self) -> None:
        super().__init__(
            "The waiting room cannot answer right now; retry in a few seconds.", headers={"Retry-After": "5"}
        )


@lru_cache(maxsize=1)
def _client() -> DynamoDBClient:
    import boto3
    from botocore.config import Config

    config = Config(
        connect_timeout=CONNECT_TIMEOUT_SECONDS,
        read_timeout=READ_TIMEOUT_SECONDS,
        retries={"max_attempts": MAX_ATTEMPTS, "mode": "standard"},
    )
    return boto3.client("dynamodb", config=config)


def reset_client() -> None:
    """Forget the client, so the next call builds one from the environment as it is now (local runs, tests)."""
    _client.cache_clear()


def _table() -> str:
    table = get_settings().waiting_room_table
    if not table:
        raise StoreUnavailable()
    return table


def _call(operation: str, **arguments: Any) -> Any:
    """One DynamoDB call; any failure of the store itself is a 503 WAITING_ROOM_UNAVAILABLE."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return getattr(_client(), operation)(TableName=_table(), **arguments)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
            raise
        raise StoreUnavailable() from error
    except BotoCoreError as error:
        raise StoreUnavailable() from error


def create_table(name: str) -> None:
    """The table as template.yaml declares it (local runs and tests; CloudFormation creates it in AWS)."""
    client = _client()
    if name not in client.list_tables()["TableNames"]:
        client.create_table(TableName=name, **TABLE_DEFINITION)


# --- places -------------------------------------------------------------------------------------------------


@dataclass
class PlaceItem:
    event_id: UUID
    user_id: UUID
    joined_us: int
    pre_queue: bool
    line_key: str
    position: int | None = None
    admitted_us: int | None = None

    def item(self) -> dict[str, Any]:
        item: dict[str, Any] = {
            "pk": {"S": f"PLACE#{self.event_id}#{self.user_id}"},
            "sk": {"S": "PLACE"},
            "lpk": {"S": f"{'PRE' if self.pre_queue else 'LINE'}#{self.event_id}#{stripe_of(self.user_id)}"},
            "lsk": {"S": self.line_key},
            "joined": {"N": str(self.joined_us)},
        }
        if self.position is not None:
            item["position"] = {"N": str(self.position)}
        if self.admitted_us is not None:
            item["admitted"] = {"N": str(self.admitted_us)}
        return item

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> PlaceItem:
        _, event_id, user_id = item["pk"]["S"].split("#")
        return cls(
            event_id=UUID(event_id),
            user_id=UUID(user_id),
            joined_us=int(item["joined"]["N"]),
            pre_queue=item["lpk"]["S"].startswith("PRE#"),
            line_key=item["lsk"]["S"],
            position=int(item["position"]["N"]) if "position" in item else None,
            admitted_us=int(item["admitted"]["N"]) if "admitted" in item else None,
        )


def stripe_of(user_id: UUID) -> int:
    return zlib.crc32(user_id.bytes) % LINE_STRIPES


def shuffle_key() -> str:
    """64 random bits from the operating system's CSPRNG: the pre-queue's order (tests seed a replacement)."""
    return secrets.token_hex(8)


def new_place(event_id: UUID, user_id: UUID, joined_us: int, *, pre_queue: bool) -> PlaceItem:
    """A place not yet stored: in the pre-queue a uniformly random key orders it, in the line its join time."""
    order = shuffle_key() if pre_queue else f"{joined_us:017d}"
    return PlaceItem(event_id, user_id, joined_us, pre_queue, f"{order}#{user_id}")


def put_new_place(place: PlaceItem) -> bool:
    """Stores the place unless the account has one already; True when this call stored it."""
    from botocore.exceptions import ClientError

    try:
        _call("put_item", Item=place.item(), ConditionExpression="attribute_not_exists(pk)")
    except ClientError:
        return False
    return True


def get_place(event_id: UUID, user_id: UUID) -> PlaceItem | None:
    found = _call("get_item", Key={"pk": {"S": f"PLACE#{event_id}#{user_id}"}, "sk": {"S": "PLACE"}})
    return PlaceItem.from_item(found["Item"]) if "Item" in found else None


def mark_admitted(place: PlaceItem, admitted_us: int) -> int:
    """The moment the place's session started: the first caller's, whatever the races; answers it."""
    from botocore.exceptions import ClientError

    key = {"pk": {"S": f"PLACE#{place.event_id}#{place.user_id}"}, "sk": {"S": "PLACE"}}
    try:
        _call(
            "update_item",
            Key=key,
            UpdateExpression="SET admitted = :at",
            ConditionExpression="attribute_not_exists(admitted)",
            ExpressionAttributeValues={":at": {"N": str(admitted_us)}},
        )
    except ClientError:
        existing = get_place(place.event_id, place.user_id)
        if existing is None or existing.admitted_us is None:
            raise StoreUnavailable() from None
        return existing.admitted_us
    return admitted_us


def places_in_line(
    event_id: UUID, *, pre_queue: bool, after: str = "", before: str | None = None
) -> Iterator[PlaceItem]:
    """Every place of the pre-queue or the line, stripe by stripe, with `after < lsk < before`."""
    kind = "PRE" if pre_queue else "LINE"
    for stripe in range(LINE_STRIPES):
        condition = "lpk = :lpk"
        values: dict[str, Any] = {":lpk": {"S": f"{kind}#{event_id}#{stripe}"}}
        if after and before is not None:
            condition += " AND lsk BETWEEN :after AND :before"
        elif after:
            condition += " AND lsk > :after"
        elif before is not None:
            condition += " AND lsk < :before"
        if after:
            values[":after"] = {"S": after}
        if before is not None:
            values[":before"] = {"S": before}
        arguments: dict[str, Any] = {
            "IndexName": LINE_INDEX,
            "KeyConditionExpression": condition,
            "ExpressionAttributeValues": values,
        }
        while True:
            page = _call("query", **arguments)
            for item in page["Items"]:
                if item["lsk"]["S"] != after:
                    yield PlaceItem.from_item(item)
            if "LastEvaluatedKey" not in page:
                break
            arguments["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def store_positions(places: list[PlaceItem]) -> None:
    """Writes the places given their positions, 25 to a request; what DynamoDB leaves over is sent again."""
    for start in range(0, len(places), BATCH_WRITE_LIMIT):
        requests: list[Any] = [
            {"PutRequest": {"Item": place.item()}} for place in places[start : start + BATCH_WRITE_LIMIT]
        ]
        for _ in range(10):
            answer = _client().batch_write_item(RequestItems={_table(): requests})
            requests = answer.get("UnprocessedItems", {}).get(_table(), [])
            if not requests:
                break
        else:
            raise StoreUnavailable()


# --- the room -----------------------------------------------------------------------------------------------


@dataclass
class RoomRecord:
    """The controller's state of one room (one item, written once per tick)."""

    dealt: bool = False
    next_position: int = 1
    admitted_through: int = 0
    rate: float = 0.0
    carry: float = 0.0
    sold_out: bool = False
    line_cursor: str = ""
    pre_queue: int = 0
    unplaced: int = 0
    # [moment (s), admitted] of the last 30 minutes' ticks: the rate now, active sessions.
    admissions: list[list[float]] = field(default_factory=list)
    # position -> join time (µs) of every SAMPLE_EVERY-th place not admitted yet; waits of those admitted.
    wait_samples: dict[str, int] = field(default_factory=dict)
    waits: list[float] = field(default_factory=list)
    # Bookings the buying path reported, and the last health sample counted into them.
    booked: int = 0
    health_cursor: str = ""
    paused: bool = False

    @property
    def waiting(self) -> int:
        return self.pre_queue + self.unplaced + max(0, self.next_position - 1 - self.admitted_through)

    def active_sessions(self, session_minutes: int, now: float) -> int:
        """Admitted within the last `session_minutes`, less those who booked since (booking ends a session)."""
        start = now - session_minutes * 60
        in_session = sum(admitted for moment, admitted in self.admissions if moment >= start)
        return max(0, int(in_session) - self.booked)


def _room_key(event_id: UUID) -> dict[str, Any]:
    return {"pk": {"S": f"ROOM#{event_id}"}, "sk": {"S": "STATE"}}


def get_room(event_id: UUID) -> RoomRecord:
    found = _call("get_item", Key=_room_key(event_id)).get("Item")
    if not found:
        return RoomRecord()
    state = json.loads(found["state"]["S"]) if "state" in found else {}
    state.pop("paused", None)
    return RoomRecord(**state, paused=found.get("paused", {}).get("BOOL", False))


def save_room(event_id: UUID, room: RoomRecord) -> None:
    state = asdict(room)
    state.pop("paused")
    _call(
        "update_item",
        Key=_room_key(event_id),
        UpdateExpression="SET #state = :state",
        ExpressionAttributeNames={"#state": "state"},
        ExpressionAttributeValues={":state": {"S": json.dumps(state, separators=(",", ":"))}},
    )


def set_paused(event_id: UUID, paused: bool) -> None:
    _call(
        "update_item",
        Key=_room_key(event_id),
        UpdateExpression="SET paused = :paused",
        ExpressionAttributeValues={":paused": {"BOOL": paused}},
    )


# --- health samples -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HealthSample:
    calls: int
    bad: int
    p95_ms: float
    booked: int


def put_health_sample(event_id: UUID, moment: int, environment: str, sample: HealthSample) -> None:
    """What one environment saw since its last sample, keyed by the moment (s) it is written."""
    _call(
        "put_item",
        Item={
            "pk": {"S": f"HEALTH#{event_id}"},
            "sk": {"S": f"{moment:012d}#{environment}"},
            "calls": {"N": str(sample.calls)},
            "bad": {"N": str(sample.bad)},
            "p95": {"N": f"{sample.p95_ms:.1f}"},
            "booked": {"N": str(sample.booked)},
            "expires": {"N": str(moment + HEALTH_SAMPLE_TTL_SECONDS)},
        },
    )


def health_samples(event_id: UUID, after: str) -> list[tuple[str, HealthSample]]:
    """(key, sample) of the samples keyed after `after` (a key, or a moment as 12 digits), oldest first."""
    arguments: dict[str, Any] = {
        "KeyConditionExpression": "pk = :pk AND sk > :after",
        "ExpressionAttributeValues": {":pk": {"S": f"HEALTH#{event_id}"}, ":after": {"S": after or "0"}},
    }
    samples: list[tuple[str, HealthSample]] = []
    while True:
        page = _call("query", **arguments)
        samples += [
            (
                item["sk"]["S"],
                HealthSample(
                    int(item["calls"]["N"]), int(item["bad"]["N"]), float(item["p95"]["N"]), int(item["booked"]["N"])
                ),
            )
            for item in page["Items"]
        ]
        if "LastEvaluatedKey" not in page:
            return samples
        arguments["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def moment_key(moment: float) -> str:
    return f"{int(moment):012d}"
