"""A DynamoDB-compatible server for `make run`, the tests and the benchmarks: moto's server mode.

It runs in a child process (so its work does not share the runner's interpreter lock) on a free loopback
port, and stops with whoever started it: the child exits when its stdin closes, which happens when the
parent exits, however it ends. `use_local_dynamodb` points boto3 at it (AWS_ENDPOINT_URL_DYNAMODB, which
boto3 itself reads) and creates the waiting room's table as template.yaml declares it.

    python -m devtools.local_dynamodb PORT    # the child: serves until its stdin closes
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

HOST = "127.0.0.1"
LOCAL_TABLE = "waiting-room"
READY = "ready"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def dynamodb_server() -> Iterator[str]:
    """moto's server on a free loopback port until the block ends; yields its URL."""
    port = _free_port()
    child = subprocess.Popen(  # noqa: S603 - this interpreter, our module, our arguments
        [sys.executable, "-m", "devtools.local_dynamodb", str(port)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        if child.stdout is None or child.stdout.readline().strip() != READY:
            raise RuntimeError("the local DynamoDB server (moto) did not start; see its output above")
        yield f"http://{HOST}:{port}"
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
    from ticketing.config import get_settings
    from ticketing.waiting_room import store

    get_settings.cache_clear()
    store.reset_client()
    store.create_table(os.environ["WAITING_ROOM_TABLE"])


def main() -> None:
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address=HOST, port=int(sys.argv[1]), verbose=False)
    server.start()
    print(READY, flush=True)
    try:
        sys.stdin.read()  # returns when the parent closes the pipe or dies
    finally:
        server.stop()


if __name__ == "__main__":
    main()
