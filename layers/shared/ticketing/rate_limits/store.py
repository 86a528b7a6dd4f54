"""The limits' items in the waiting room's DynamoDB table (WAITING_ROOM_TABLE): keys `pk = LIMIT#...`, removed by
the table's TTL attribute `expires`. The waiting room's own items never start with `LIMIT#`.

- A window counter: `pk = LIMIT#<scope>#<who>`, `sk = W#<window start, epoch seconds>`, `hits`. One conditional
  `UpdateItem` (`ADD hits :one` only while `hits < :limit`) both counts and decides: a refused call writes
  nothing and costs that one request.
- Login failures: `pk = LIMIT#login#<hash of e-mail and address>`, `sk = FAILURES`, `failures`, `lastFailure`.

Every call goes through the bounded DynamoDB client (ticketing.aws_clients). A store error is `StoreError`:
the caller fails open (docs/security.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from ticketing.aws_clients import aws_client

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

FAILURES_SK = "FAILURES"


class StoreError(RuntimeError):
    """The limit store did not answer (or refused for a reason other than the limit)."""


@dataclass(frozen=True)
class LoginFailures:
    failures: int
    last_failure: float  # epoch seconds


def _client() -> DynamoDBClient:
    client: DynamoDBClient = aws_client("dynamodb")
    return client


def take(table: str, *, key: str, window_start: int, limit: int, expires: int) -> bool:
    """Counts one call in the window unless `limit` calls are counted already; answers whether it was counted."""
    try:
        _client().update_item(
            TableName=table,
            Key={"pk": {"S": key}, "sk": {"S": f"W#{window_start}"}},
            UpdateExpression="ADD hits :one SET expires = :expires",
            ConditionExpression="attribute_not_exists(hits) OR hits < :limit",
            ExpressionAttributeValues={
                ":one": {"N": "1"},
                ":limit": {"N": str(limit)},
                ":expires": {"N": str(expires)},
            },
        )
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
            return False
        raise StoreError(str(error)) from error
    except BotoCoreError as error:
        raise StoreError(str(error)) from error
    return True


def login_failures(table: str, key: str) -> LoginFailures | None:
    try:
        item = (
            _client()
            .get_item(TableName=table, Key={"pk": {"S": key}, "sk": {"S": FAILURES_SK}}, ConsistentRead=True)
            .get("Item")
        )
    except (ClientError, BotoCoreError) as error:
        raise StoreError(str(error)) from error
    if not item:
        return None
    return LoginFailures(failures=int(item["failures"]["N"]), last_failure=float(item["lastFailure"]["N"]))


def record_login_failure(table: str, key: str, *, at: float, expires: int) -> None:
    try:
        _client().update_item(
            TableName=table,
            Key={"pk": {"S": key}, "sk": {"S": FAILURES_SK}},
            UpdateExpression="ADD failures :one SET lastFailure = :at, expires = :expires",
            ExpressionAttributeValues={
                ":one": {"N": "1"},
                ":at": {"N": f"{at:.3f}"},
                ":expires": {"N": str(expires)},
            },
        )
    except (ClientError, BotoCoreError) as error:
        raise StoreError(str(error)) from error


def clear_login_failures(table: str, key: str) -> None:
    try:
        _client().delete_item(TableName=table, Key={"pk": {"S": key}, "sk": {"S": FAILURES_SK}})
    except (ClientError, BotoCoreError) as error:
        raise StoreError(str(error)) from error
