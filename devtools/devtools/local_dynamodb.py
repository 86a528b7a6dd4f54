"""A DynamoDB-compatible server for `make run`, the tests and the benchmarks: moto's server mode.

It runs in a child process (so its work does not share the runner's interpreter lock) on a loopback
port the system picks, and stops with whoever started it: the child exits when its stdin closes, which
happens when the parent exits, however it ends. Connections are served by threads (werkzeug's server closes
each after its answer), but moto's backend handles one request at a time: its DynamoDB is not safe under
concurrent requests (a query iterating a table while a put adds to it fails). `use_local_dynamodb` points boto3 at it
(AWS_ENDPOINT_URL_DYNAMODB, which boto3 itself reads) and creates the waiting room's table as template.yaml
declares it (the rate limits keep their items in it too).

    python -m devtools.local_dynamodb    # the child: prints "ready <port>", serves until its stdin closes
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

HOST = "127.0.0.1"
LOCAL_TABLE = "waiting-room"
READY = "ready"


@contextmanager
def dynamodb_server() -> Iterator[str]:
    """moto's server on a free loopback port until the block ends; yields its URL."""
    child = subprocess.Popen(
        [sys.executable, "-m", "devtools.local_dynamodb"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        announced = child.stdout.readline().split() if child.stdout else []
        if len(announced) != 2 or announced[0] != READY:
            raise RuntimeError("the local DynamoDB server (moto) did not start; see its output above")
        yield f"http://{HOST}:{announced[1]}"
    finally:
        if child.stdin:
            child.stdin.close()
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def use_local_dynamodb(endpoint: str, table: str = LOCAL_TABLE) -> None:
    """Points this process and the workers it starts at `endpoint`, with the waiting room's table in it."""
    os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = endpoint
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    # moto accepts any credentials; these keep boto3 from looking for real ones.
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "local")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local")
    os.environ.setdefault("WAITING_ROOM_TABLE", table)
    from ticketing.aws_clients import forget_clients
    from ticketing.config import get_settings
    from ticketing.waiting_room import store

    get_settings.cache_clear()
    forget_clients()
    store.create_table(os.environ["WAITING_ROOM_TABLE"])


def query_reads_one_partition() -> None:
    """Makes moto's Query read the queried partition only, as DynamoDB does.

    moto's `Table.query` (without an index) gathers every item of the table and sorts them all for each query,
    then keeps the partition's: on a table of 40,000 places and rate-limit items that is most of a second, and
    the backend serves one request at a time, so every other call waits behind it (and the buying path's
    calls time out). Handing it the queried partition's items alone gives the same answer in its size's time.
    """
    from moto.dynamodb.models.table import Table

    whole_table = Table.all_items
    query = Table.query

    def all_items(self: Any) -> list[Any]:
        partition = getattr(self, "_queried_partition", None)
        if partition is None:
            return whole_table(self)
        items = self.items.get(partition)
        if not items:
            return []
        if not self.range_key_attr:
            return [items]
        return sorted(items.values(), key=lambda item: item.range_key)

    def query_one_partition(self: Any, hash_key: Any, *arguments: Any, **keywords: Any) -> Any:
        # The backend passes index_name as the 8th argument: a query of an index keeps moto's own path.
        index_name = arguments[6] if len(arguments) > 6 else keywords.get("index_name")
        if index_name is not None or hash_key is None:
            return query(self, hash_key, *arguments, **keywords)
        self._queried_partition = hash_key
        try:
            return query(self, hash_key, *arguments, **keywords)
        finally:
            self._queried_partition = None

    Table.all_items = all_items  # type: ignore[method-assign]
    Table.query = query_one_partition  # type: ignore[method-assign]


def main() -> None:
    import logging
    import threading

    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    query_reads_one_partition()
    app = DomainDispatcherApplication(create_backend_app)
    one_at_a_time = threading.Lock()

    def serialized(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        with one_at_a_time:
            return list(app(environ, start_response))

    server = make_server(HOST, 0, serialized, threaded=True, request_handler=MotoRequestHandler)
    serving = threading.Thread(target=server.serve_forever, name="moto", daemon=True)
    serving.start()
    print(READY, server.server_port, flush=True)
    try:
        sys.stdin.read()  # returns when the parent closes the pipe or dies
    finally:
        server.shutdown()


if __name__ == "__main__":
    main()
