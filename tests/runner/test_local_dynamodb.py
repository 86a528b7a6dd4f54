"""The local DynamoDB (moto's server, devtools/local_dynamodb.py) answers a Query from the queried partition
alone, as DynamoDB does, with DynamoDB's order, key conditions and paging."""

from __future__ import annotations

import os
import secrets
from typing import Any

import boto3


def _client(url: str) -> Any:
    return boto3.client("dynamodb", endpoint_url=url, region_name=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"))


def _put(client: Any, pk: str, sk: str) -> None:
    client.put_item(TableName=os.environ["WAITING_ROOM_TABLE"], Item={"pk": {"S": pk}, "sk": {"S": sk}})


def _query(client: Any, **arguments: Any) -> list[str]:
    found: list[str] = []
    arguments = {"TableName": os.environ["WAITING_ROOM_TABLE"], **arguments}
    while True:
        page = client.query(**arguments)
        found += [item["sk"]["S"] for item in page["Items"]]
        if "LastEvaluatedKey" not in page:
            return found
        arguments["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def test_a_query_answers_its_partitions_items_in_sort_key_order_page_by_page(dynamodb: str) -> None:
    # Given items in two partitions, written out of order
    client = _client(dynamodb)
    mine, other = f"QUERIED#{secrets.token_hex(4)}", f"OTHER#{secrets.token_hex(4)}"
    for sk in ("c", "a", "e", "b", "d"):
        _put(client, mine, sk)
        _put(client, other, sk)

    # When one partition is queried two items a page, after "a", newest first and oldest first
    values = {":pk": {"S": mine}, ":after": {"S": "a"}}
    condition = "pk = :pk AND sk > :after"
    backwards = _query(
        client, KeyConditionExpression=condition, ExpressionAttributeValues=values, Limit=2, ScanIndexForward=False
    )
    forwards = _query(client, KeyConditionExpression=condition, ExpressionAttributeValues=values, Limit=2)

    # Then only that partition's items come back, in sort key order either way, none twice
    assert forwards == ["b", "c", "d", "e"]
    assert backwards == ["e", "d", "c", "b"]


def test_a_query_of_an_empty_partition_answers_nothing(dynamodb: str) -> None:
    client = _client(dynamodb)
    _put(client, f"SOMEONE#{secrets.token_hex(4)}", "a")

    found = _query(
        client,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"NOBODY#{secrets.token_hex(4)}"}},
    )

    assert found == []


def test_a_scan_still_reads_the_whole_table(dynamodb: str) -> None:
    client = _client(dynamodb)
    first, second = f"SCAN#{secrets.token_hex(4)}", f"SCAN#{secrets.token_hex(4)}"
    _put(client, first, "x")
    _put(client, second, "y")

    items = client.scan(TableName=os.environ["WAITING_ROOM_TABLE"])["Items"]

    assert {first, second} <= {item["pk"]["S"] for item in items}
