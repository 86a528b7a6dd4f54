"""`make smoke URL=…`: one command says whether a deployment works, over HTTP only (docs/smoke.md).

A black-box end-to-end check against any deployment, `make run` or a stack in AWS: health, a fresh account,
log in, an event on sale (found, or created and published with an organizer's credentials), admission when
the event has a waiting room, hold a seat, create a booking, pay with the deployment's test payment method,
cancel, then clean up whatever the run made. Every step is printed with its status and time; the exit code
is 0 when every step passed, 1 otherwise (2: bad arguments).
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import time
from typing import TextIO

from devtools.smoke_checks import PAYING_TOKENS, Options, Report, SmokeApi, SmokeRun, Stop
from devtools.smoke_journey import Journey


def run_smoke(options: Options, out: TextIO = sys.stdout) -> int:
    """Runs every step against `options.url`, prints the report and answers the exit code (0 pass, 1 fail)."""
    run_id = f"{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}-{secrets.token_hex(3)}"
    print(f"Smoke test of {options.url} (run {run_id})", file=out, flush=True)
    report = Report(out)
    run = SmokeRun(SmokeApi(options.url, options.timeout), report)
    journey = Journey(run, options, run_id)
    started = time.perf_counter()
    try:
        journey.buy_and_cancel()
    except Stop:
        pass
    finally:
        print("Cleanup", file=out, flush=True)
        journey.clean_up()
    seconds = time.perf_counter() - started
    failed = report.failed
    if failed:
        names = ", ".join(result.name for result in failed)
        print(f"SMOKE FAILED: {names} (steps run: {len(report.results)}, {seconds:.1f} s)", file=out, flush=True)
        return 1
    print(f"SMOKE PASSED (steps run: {len(report.results)}, {seconds:.1f} s)", file=out, flush=True)
    return 0


def parse_options(argv: list[str] | None = None) -> Options:
    environ = os.environ
    parser = argparse.ArgumentParser(prog="make smoke", description=__doc__)
    parser.add_argument("url", help="the deployment's base URL, without /api (e.g. http://127.0.0.1:3000)")
    parser.add_argument("--timeout", type=float, default=15.0, help="seconds each HTTP request may take")
    parser.add_argument(
        "--email-domain",
        default=environ.get("SMOKE_EMAIL_DOMAIN", "example.com"),
        help="domain of the fresh account's address (SMOKE_EMAIL_DOMAIN)",
    )
    parser.add_argument(
        "--organizer-email",
        default=environ.get("SMOKE_ORGANIZER_EMAIL"),
        help="an ORGANIZER or ADMIN account: the run creates, publishes and finally cancels its own event "
        "(SMOKE_ORGANIZER_EMAIL)",
    )
    parser.add_argument(
        "--organizer-password",
        default=environ.get("SMOKE_ORGANIZER_PASSWORD"),
        help="that account's password (SMOKE_ORGANIZER_PASSWORD)",
    )
    parser.add_argument("--event-id", default=environ.get("SMOKE_EVENT_ID"), help="buy for this event (SMOKE_EVENT_ID)")
    parser.add_argument(
        "--payment-token",
        default=environ.get("SMOKE_PAYMENT_TOKEN"),
        help="the card token to pay with; default by the deployment's provider: " + str(PAYING_TOKENS),
    )
    parser.add_argument(
        "--admission-timeout", type=float, default=120.0, help="seconds to wait in an event's waiting room"
    )
    parser.add_argument(
        "--cancellation-cutoff-hours",
        type=float,
        default=float(environ.get("CANCELLATION_CUTOFF_HOURS", "24")),
        help="only events starting later than this can be cancelled by a customer (CANCELLATION_CUTOFF_HOURS)",
    )
    arguments = parser.parse_args(argv)
    if bool(arguments.organizer_email) != bool(arguments.organizer_password):
        parser.error("--organizer-email and --organizer-password go together")
    return Options(**{**vars(arguments), "url": arguments.url.rstrip("/")})


def main(argv: list[str] | None = None) -> None:
    sys.exit(run_smoke(parse_options(argv)))


if __name__ == "__main__":
    main()
