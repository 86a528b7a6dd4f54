"""localstripe, the stateful Stripe API emulator, for `make run PAYMENT_PROVIDER=stripe` and the Stripe tests.

`python -m devtools.localstripe PORT` serves it on 127.0.0.1 only (its own command listens on every interface).
`local_stripe()` starts it on a free port and stops it on exit; `configure_webhook` points its signed webhooks at
our API (`POST /_config/webhooks/{id}`). Its state lives in memory and in /tmp/localstripe.pickle, which it
rewrites on every change; a fresh start serves from an empty store.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager

HOST = "127.0.0.1"
# Keys localstripe accepts as they are: any `sk_test_` key, and the webhook secret we give it.
SECRET_KEY = "sk_test_local"
WEBHOOK_SECRET = "whsec_local_webhooks"
STARTUP_SECONDS = 30.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def _answers(base_url: str) -> bool:
    request = urllib.request.Request(  # noqa: S310 - our own loopback server
        f"{base_url}/v1/payment_intents", headers={"Authorization": f"Bearer {SECRET_KEY}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=2) as answer:  # noqa: S310
            return bool(answer.status == 200)
    except (urllib.error.URLError, OSError):
        return False


@contextmanager
def local_stripe() -> Iterator[str]:
    """localstripe serving on a free loopback port; yields its base URL (the value of STRIPE_API_BASE)."""
    port = _free_port()
    process = subprocess.Popen(  # noqa: S603 - this interpreter running our own module
        [sys.executable, "-m", "devtools.localstripe", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    base_url = f"http://{HOST}:{port}"
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while not _answers(base_url):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"localstripe did not start on {base_url}")
            time.sleep(0.1)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def stripe_environment(base_url: str) -> dict[str, str]:
    """What our API needs to pay through localstripe."""
    return {
        "PAYMENT_PROVIDER": "stripe",
        "STRIPE_API_BASE": base_url,
        "STRIPE_SECRET_KEY": SECRET_KEY,
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
    }


def configure_webhook(base_url: str, target_url: str, webhook_id: str = "ticketing") -> None:
    """localstripe signs every event with WEBHOOK_SECRET and posts it to `target_url`."""
    data = urllib.parse.urlencode({"url": target_url, "secret": WEBHOOK_SECRET}).encode()
    request = urllib.request.Request(f"{base_url}/_config/webhooks/{webhook_id}", data=data, method="POST")  # noqa: S310
    with urllib.request.urlopen(request, timeout=5) as answer:  # noqa: S310
        if answer.status != 200:
            raise RuntimeError(f"localstripe refused the webhook configuration: {answer.status}")


def main() -> None:
    from aiohttp import web
    from localstripe.server import app

    web.run_app(app, host=HOST, port=int(sys.argv[1]), print=None, access_log=None)


if __name__ == "__main__":
    main()
