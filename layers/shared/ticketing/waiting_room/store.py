"""The queue in DynamoDB (WAITING_ROOM_TABLE): one item per place, arrival counters, one room item, health samples.

Nothing the controller does costs one write or one read per buyer: buyers are admitted by two watermarks that
the room item carries, and the controller learns how many people each watermark step admits from arrival
counters the joins add to. Items (one table, string keys `pk`/`sk`; docs/waiting-room.md draws them):
- a place: pk `PLACE#<event>#<account>`. Its own partition, so joins spread over the table; joining is a
  conditional put (`attribute_not_exists(pk)`): one place per account and event, whatever the tabs. It holds
  the join time (µs) and, for a pre-queue joiner, a uniformly random key in [0, 1): its order in the shuffle.
- arrival counters: pk `ARRIVALS#<event>#<stripe>`, sk `PRE#<bucket>` (pre-queue keys in PRE_BUCKETS equal
  slices of [0, 1)) or `LINE#<second>` (line joiners by the second they joined), each an `ADD n :1` made by the
  join. Stripes (ARRIVAL_STRIPES partitions) keep any one counter far below DynamoDB's ~1,000 writes/s per
  partition; a pre-queue bucket's stripe is its number, a line joiner's a random one. Their keys are known
  (stripe x bucket or second), so the controller reads them by key (BatchGetItem), never by a query.
- the room: pk `ROOM#<event>`, sk `STATE`: `public` (what every poll reads: watermarks, counts, rate, sold
  out), `control` (the controller's own bookkeeping), `paused` (organizers set it, the controller reads it).
  One write per tick, whatever the crowd.
- health samples (health_log.py): pk `HEALTH#<event>`, what the buying path saw, a few items a minute.

The client is the layer's bounded DynamoDB client (ticketing.aws_clients: explicit timeouts, bounded retries, well
inside any caller's own timeout); locally and in tests boto3 reaches moto's server through
AWS_ENDPOINT_URL_DYNAMODB.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any
from uuid import UUID

from ticketing.aws_clients import aws_client
from ticketing.config import get_settings
from ticketing.errors import ServiceUnavailable

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

ARRIVAL_STRIPES = 16
PRE_BUCKETS = 256
BATCH_GET_LIMIT = 100
BATCH_ROUNDS = 5

TABLE_DEFINITION: dict[str, Any] = {
    "AttributeDefinitions": [
        {"AttributeName": "pk", "AttributeType": "S"},
        {"AttributeName": "sk", "AttributeType": "S"},
    ],
    "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
    "BillingMode": "PAY_PER_REQUEST",
}


class StoreUnavailable(ServiceUnavailable):
    code = "WAITING_ROOM_UNAVAILABLE"

    def __init__(self) -> None:
        super().__init__(
            "The waiting room cannot answer right now; retry in a few seconds.", headers={"Retry-After": "5"}
        )


def _client() -> DynamoDBClient:
    client: DynamoDBClient = aws_client("dynamodb")
    return client


def _table() -> str:
    table = get_settings().waiting_room_table
    if not table:
        raise StoreUnavailable()
    return table


def call(operation: str, **arguments: Any) -> Any:
    """One DynamoDB call on the table; any failure of the store itself is a 503 WAITING_ROOM_UNAVAILABLE."""
    return _guarded(operation, TableName=_table(), **arguments)


def _guarded(operation: str, **arguments: Any) -> Any:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return getattr(_client(), operation)(**arguments)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
            raise
        raise StoreUnavailable() from error
    except BotoCoreError as error:
        raise StoreUnavailable() from error


def query_all(**arguments: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    while True:
        page = call("query", **arguments)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return items
        arguments["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def create_table(name: str) -> None:
    """The table as template.yaml declares it (local runs and tests; CloudFormation creates it in AWS)."""
    client = _client()
    if name not in client.list_tables()["TableNames"]:
        client.create_table(TableName=name, **TABLE_DEFINITION)


# --- places -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlaceItem:
    event_id: UUID
    user_id: UUID
    joined_us: int
    # The pre-queue's shuffle: a uniformly random key in [0, 1); None for those who joined after the start.
    pre_queue_key: float | None
    admitted_us: int | None = None

    def item(self) -> dict[str, Any]:
        item: dict[str, Any] = {
            "pk": {"S": f"PLACE#{self.event_id}#{self.user_id}"},
            "sk": {"S": "PLACE"},
            "joined": {"N": str(self.joined_us)},
        }
        if self.pre_queue_key is not None:
            item["key"] = {"N": repr(self.pre_queue_key)}
        return item

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> PlaceItem:
        _, event_id, user_id = item["pk"]["S"].split("#")
        return cls(
            event_id=UUID(event_id),
            user_id=UUID(user_id),
            joined_us=int(item["joined"]["N"]),
            pre_queue_key=float(item["key"]["N"]) if "key" in item else None,
            admitted_us=int(item["admitted"]["N"]) if "admitted" in item else None,
        )


def shuffle_key() -> float:
    """53 random bits from the operating system's CSPRNG as a float in [0, 1): the pre-queue's order (tests
    seed a replacement)."""
    return secrets.randbits(53) / (1 << 53)


def pre_bucket(key: float) -> int:
    return min(PRE_BUCKETS - 1, int(key * PRE_BUCKETS))


def put_new_place(place: PlaceItem) -> bool:
    """Stores the place unless the account has one already, and counts its arrival; True when this call stored
    it. A count that cannot be written is lost (the controller's estimate of a step is off by one), the place
    is not: admission goes by the watermarks, not by the counts."""
    from botocore.exceptions import ClientError

    try:
        call("put_item", Item=place.item(), ConditionExpression="attribute_not_exists(pk)")
    except ClientError:
        return False
    if place.pre_queue_key is not None:
        bucket = pre_bucket(place.pre_queue_key)
        stripe, sort_key = bucket % ARRIVAL_STRIPES, f"PRE#{bucket:04d}"
    else:
        stripe, sort_key = secrets.randbelow(ARRIVAL_STRIPES), f"LINE#{place.joined_us // 1_000_000:012d}"
    call(
        "update_item",
        Key={"pk": {"S": f"ARRIVALS#{place.event_id}#{stripe}"}, "sk": {"S": sort_key}},
        UpdateExpression="ADD n :one",
        ExpressionAttributeValues={":one": {"N": "1"}},
    )
    return True


def get_place(event_id: UUID, user_id: UUID) -> PlaceItem | None:
    found = call("get_item", Key={"pk": {"S": f"PLACE#{event_id}#{user_id}"}, "sk": {"S": "PLACE"}})
    return PlaceItem.from_item(found["Item"]) if "Item" in found else None


def mark_admitted(place: PlaceItem, admitted_us: int) -> int:
    """The moment the place's session started: the first caller's, whatever the races; answers it."""
    from botocore.exceptions import ClientError

    key = {"pk": {"S": f"PLACE#{place.event_id}#{place.user_id}"}, "sk": {"S": "PLACE"}}
    try:
        call(
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


# --- arrival counters ---------------------------------------------------------------------------------------


def _get_counters(keys: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """The counters of these keys that exist: point reads, BATCH_GET_LIMIT to a request; what DynamoDB leaves
    over is asked again, a bounded number of times."""
    table = _table()
    items: list[dict[str, Any]] = []
    for start in range(0, len(keys), BATCH_GET_LIMIT):
        request: Any = {
            "Keys": [{"pk": {"S": pk}, "sk": {"S": sk}} for pk, sk in keys[start : start + BATCH_GET_LIMIT]]
        }
        for _ in range(BATCH_ROUNDS):
            answer = _guarded("batch_get_item", RequestItems={table: request})
            items += answer["Responses"].get(table, [])
            request = answer.get("UnprocessedKeys", {}).get(table)
            if not request:
                break
        else:
            raise StoreUnavailable()
    return items


def pre_queue_counts(event_id: UUID) -> list[int]:
    """Arrivals in each pre-queue bucket: PRE_BUCKETS point reads, in a few batches."""
    keys = [(f"ARRIVALS#{event_id}#{bucket % ARRIVAL_STRIPES}", f"PRE#{bucket:04d}") for bucket in range(PRE_BUCKETS)]
    counts = [0] * PRE_BUCKETS
    for item in _get_counters(keys):
        counts[int(item["sk"]["S"][4:])] += int(item["n"]["N"])
    return counts


def line_counts(event_id: UUID, after_second: int, through_second: int) -> dict[int, int]:
    """Line arrivals per second joined, for the seconds in (after_second, through_second]: one point read per
    second and stripe (the caller bounds the range), whatever the crowd that joined before."""
    keys = [
        (f"ARRIVALS#{event_id}#{stripe}", f"LINE#{second:012d}")
        for second in range(after_second + 1, through_second + 1)
        for stripe in range(ARRIVAL_STRIPES)
    ]
    counts: dict[int, int] = {}
    for item in _get_counters(keys):
        second = int(item["sk"]["S"][5:])
        counts[second] = counts.get(second, 0) + int(item["n"]["N"])
    return counts


# --- the room -----------------------------------------------------------------------------------------------


@dataclass
class RoomPublic:
    """What every poll reads: who is admitted (the two watermarks) and enough counts to place a buyer."""

    dealt: bool = False
    # Pre-queue joiners whose key is below this are admitted (1.0: all of them).
    pre_queue_below: float = 0.0
    # Line joiners who joined before this moment (µs) are admitted.
    line_before_us: int = 0
    admitted: int = 0
    # Arrivals per pre-queue bucket, counted when the pre-queue was dealt (its places come from them).
    pre_buckets: list[int] = field(default_factory=list)
    # [second, arrivals before it, arrivals in it] of the line's counted seconds (the most recent MAX_MARKS).
    line_marks: list[list[int]] = field(default_factory=list)
    line_counted: int = 0
    pre_queue_waiting: int = 0
    rate: float = 0.0
    sold_out: bool = False

    @property
    def pre_total(self) -> int:
        return sum(self.pre_buckets)

    @property
    def waiting(self) -> int:
        joined = self.pre_total + self.line_counted if self.dealt else self.pre_queue_waiting
        return max(0, joined - self.admitted)


@dataclass
class RoomControl:
    """The controller's own bookkeeping (read and written by the controller alone)."""

    # The last whole second whose line arrivals are counted.
    line_counted_through: int = 0
    # Where admission stands: the pre-queue bucket and the line's second being admitted, and how many of
    # each are in already.
    pre_bucket: int = 0
    pre_given_in_bucket: int = 0
    line_second: int = 0
    line_given_in_second: int = 0
    carry: float = 0.0
    # When the line's last tick ran (s): a tick admits for the time since it, so the end game's quarter ticks
    # admit a quarter of a tick's people each, not a whole tick's.
    last_tick_at: float = 0.0
    # [moment (s), admitted] of the last 30 minutes' ticks: the rate now, active sessions.
    admissions: list[list[float]] = field(default_factory=list)
    # [wait (s), people] of the last ticks' admissions (stats p50/p95).
    waits: list[list[float]] = field(default_factory=list)
    # What the buying path reported (bookings, released holds), and the last health sample counted into them.
    booked: int = 0
    released: int = 0
    health_cursor: str = ""

    def ended_sessions(self) -> int:
        return self.booked + self.released

    def active_sessions(self, session_minutes: int, now: float) -> int:
        """Admitted within the last `session_minutes`, less the sessions that ended since (a booking, or holds
        released): each of those frees a place at once, an expired one when it expires."""
        start = now - session_minutes * 60
        in_session = sum(admitted for moment, admitted in self.admissions if moment >= start)
        return max(0, int(in_session) - self.ended_sessions())


@dataclass
class Room:
    public: RoomPublic
    control: RoomControl
    paused: bool = False


def _room_key(event_id: UUID) -> dict[str, Any]:
    return {"pk": {"S": f"ROOM#{event_id}"}, "sk": {"S": "STATE"}}


def _public_of(found: dict[str, Any]) -> RoomPublic:
    return RoomPublic(**json.loads(found["public"]["S"])) if "public" in found else RoomPublic()


def get_public(event_id: UUID) -> tuple[RoomPublic, bool]:
    """The room as polls see it, and whether it is paused: the public part only, not the controller's."""
    found = call(
        "get_item",
        Key=_room_key(event_id),
        ProjectionExpression="#public, paused",
        ExpressionAttributeNames={"#public": "public"},
    ).get("Item", {})
    return _public_of(found), found.get("paused", {}).get("BOOL", False)


def get_room(event_id: UUID) -> Room:
    found = call("get_item", Key=_room_key(event_id)).get("Item", {})
    control = RoomControl(**json.loads(found["control"]["S"])) if "control" in found else RoomControl()
    return Room(_public_of(found), control, found.get("paused", {}).get("BOOL", False))


def _json(value: Any) -> dict[str, str]:
    return {"S": json.dumps(asdict(value), separators=(",", ":"))}


def save_room(event_id: UUID, room: Room) -> None:
    call(
        "update_item",
        Key=_room_key(event_id),
        UpdateExpression="SET #public = :public, control = :control",
        ExpressionAttributeNames={"#public": "public"},
        ExpressionAttributeValues={":public": _json(room.public), ":control": _json(room.control)},
    )


def set_paused(event_id: UUID, paused: bool) -> None:
    call(
        "update_item",
        Key=_room_key(event_id),
        UpdateExpression="SET paused = :paused",
        ExpressionAttributeValues={":paused": {"BOOL": paused}},
    )
