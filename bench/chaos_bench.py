"""`python -m bench chaos`: an on-sale under injected faults, then the invariant check (docs/benchmarks.md, "Chaos").

The whole local stack runs in this process's care: an embedded PostgreSQL, the runner (API Gateway + Lambda
workers) with its scheduler, moto's server for EventBridge and SES. A crowd of BUYERS buys through the
runner (holds, best-available, bookings, payments, cancels) while the organizer cancels one event, and a
seeded schedule of faults (bench/chaos_faults.py) hits it: workers killed mid-request, the database
restarted, the payment provider slow, timing out or failing, events delivered twice or late, the outbox
publisher and the refunds worker killed mid-batch. After the storm and a quiet minute the invariant check
runs; the figures go to bench/results/chaos.md and docs/benchmarks.md. `BENCH_CHAOS_SEED`,
`BENCH_CHAOS_SECONDS` and `BENCH_CHAOS_QUIET_SECONDS` change the seed, the storm's and the quiet's length.
"""

from __future__ import annotations

import logging
import os
import random
import secrets
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.chaos_crowd import Journal, Stage, cancel_event, run_crowd
from bench.chaos_faults import Fault, Injector, run_schedule, schedule
from bench.chaos_report import Outcome, write_outcome

SEED = int(os.environ.get("BENCH_CHAOS_SEED", "25"))
STORM_SECONDS = float(os.environ.get("BENCH_CHAOS_SECONDS", "160"))
QUIET_SECONDS = float(os.environ.get("BENCH_CHAOS_QUIET_SECONDS", "60"))
BUYERS = 300
CLIENTS = 16
SCHEDULE_SECONDS = 5.0
EVENT_CANCELLED_AT = 0.55  # of the storm
MAIN_ROWS, MAIN_SEATS_PER_ROW = 20, 40
DOOMED_ROWS, DOOMED_SEATS_PER_ROW = 5, 20
BUS = "chaos-bus"
SENDER = "tickets@example.com"
REPO_ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def _moto_server() -> Iterator[str]:
    """moto's server on a free loopback port, for the workers' EventBridge and SES calls."""
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def _environment(database_url: str, aws_endpoint: str, faults_file: Path) -> None:
    """What every worker sees (they copy this process's environment when they start)."""
    os.environ.update(
        {
            "DATABASE_URL": database_url,
            "JWT_SECRET": secrets.token_urlsafe(48),
            "TICKET_SIGNING_KEY": secrets.token_urlsafe(48),
            "ADMISSION_SIGNING_KEY": secrets.token_urlsafe(48),
            "BCRYPT_ROUNDS": "4",
            "POWERTOOLS_LOG_LEVEL": "CRITICAL",
            "POWERTOOLS_METRICS_DISABLED": "true",
            "LOCAL_CONCURRENCY": "4",
            "PAYMENT_TEST_FAULTS_FILE": str(faults_file),
            "AWS_ENDPOINT_URL": aws_endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "EVENT_BUS_NAME": BUS,
            "EMAIL_FROM": SENDER,
            # Payments whose outcome a provider fault hid are asked again within the quiet minute.
            "PAYMENT_RECONCILE_AFTER_SECONDS": "20",
        }
    )
    import boto3

    boto3.client("events").create_event_bus(Name=BUS)
    boto3.client("ses").verify_email_identity(EmailAddress=SENDER)


def _stage(base_url: str) -> Stage:
    from bench.bookings_bench import _buyers, _seed_event
    from ticketing.auth.principal import Principal, Role
    from ticketing.auth.tokens import issue_access_token
    from ticketing.db import transaction

    main_event, main_seats = _seed_event(MAIN_ROWS, MAIN_SEATS_PER_ROW)
    doomed_event, doomed_seats = _seed_event(DOOMED_ROWS, DOOMED_SEATS_PER_ROW)
    with transaction() as tx:
        organizer = tx.value("SELECT organizer_id FROM events WHERE id = :id", id=doomed_event)
        ordered = tx.rows(
            "SELECT id FROM event_seats WHERE event_id = ANY(CAST(:events AS uuid[])) ORDER BY event_id, seat_index",
            events=[str(main_event), str(doomed_event)],
        )
    by_event = {str(main_event): set(map(str, main_seats)), str(doomed_event): set(map(str, doomed_seats))}
    in_order = [str(row["id"]) for row in ordered]
    return Stage(
        base_url=base_url,
        main_event=str(main_event),
        main_seats=[seat for seat in in_order if seat in by_event[str(main_event)]],
        doomed_event=str(doomed_event),
        doomed_seats=[seat for seat in in_order if seat in by_event[str(doomed_event)]],
        tokens=[token for _, token in _buyers(BUYERS)],
        organizer_token=issue_access_token(Principal(user_id=organizer, role=Role.ORGANIZER)),
    )


def _latest_domain_event() -> dict[str, Any] | None:
    """The newest domain event in the outbox, in the shape EventBridge delivers it to the NotificationFunction."""
    from ticketing.db import transaction
    from ticketing.errors import ServiceUnavailable

    try:
        with transaction() as tx:
            row = tx.row(
                "SELECT id, event_type, payload FROM outbox_events WHERE event_type LIKE 'Booking%'"
                " ORDER BY created_at DESC LIMIT 1"
            )
    except ServiceUnavailable:
        return None
    if row is None:
        return None
    return {
        "version": "0",
        "id": str(row["id"]),
        "detail-type": row["event_type"],
        "source": "ticketing",
        "account": "123456789012",
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "region": "us-east-1",
        "resources": [],
        "detail": row["payload"],
    }


def _storm(stage: Stage, injector: Injector, faults: list[Fault], journal: Journal) -> tuple[float, float, bool]:
    """The crowd, the faults and the event cancellation at once; answers (start, end, event cancelled)."""
    from bench.chaos_crowd import Client

    started = time.monotonic()
    stop_faults = threading.Event()
    fault_thread = threading.Thread(target=run_schedule, args=(injector, faults, started, stop_faults))
    fault_thread.start()
    cancelled: list[bool] = []

    def organizer() -> None:
        time.sleep(STORM_SECONDS * EVENT_CANCELLED_AT)
        cancelled.append(cancel_event(Client(stage, journal), stage.doomed_event))

    organizer_thread = threading.Thread(target=organizer)
    organizer_thread.start()
    run_crowd(stage, journal, CLIENTS, started + STORM_SECONDS, SEED)
    ended = time.monotonic()
    stop_faults.set()
    fault_thread.join()
    organizer_thread.join()
    return started, ended, bool(cancelled and cancelled[0])


def main() -> None:
    from devtools.embedded_db import embedded_server, scratch_database
    from devtools.lambda_pool import LambdaRuntime
    from devtools.sam_template import load_template
    from devtools.server import Scheduler, create_server

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's server logs every request
    logging.getLogger("devtools").setLevel(logging.CRITICAL)  # every kill logs an error; the tally counts them
    with (
        tempfile.TemporaryDirectory(prefix="chaos-") as folder,
        embedded_server(Path(folder) / "pgdata", keep_data=False) as server_url,
        scratch_database(server_url, "chaos") as database_url,
        _moto_server() as aws_endpoint,
    ):
        _environment(database_url, aws_endpoint, Path(folder) / "provider-faults.json")
        from ticketing.config import get_settings
        from ticketing.db import transaction
        from ticketing.db.migrate import apply_migrations

        get_settings.cache_clear()
        apply_migrations()
        with transaction() as tx:
            postgres_version = str(tx.value("SHOW server_version"))
        app = load_template(REPO_ROOT / "template.yaml")
        runtime = LambdaRuntime.for_app(app, report_log=lambda line: None)
        server = create_server(app, "127.0.0.1", 0, runtime=runtime, request_log=lambda line: None)
        threading.Thread(target=server.serve_forever, name="api-server", daemon=True).start()
        scheduler = Scheduler(app, SCHEDULE_SECONDS, runtime=runtime, result_log=lambda line: None)
        try:
            host, port = server.server_address[:2]
            stage = _stage(f"http://{host!s}:{port}")
            faults = schedule(SEED, STORM_SECONDS, app)
            injector = Injector(
                app, runtime, Path(folder) / "pgdata", Path(folder) / "provider-faults.json",
                random.Random(SEED), _latest_domain_event,
            )  # fmt: skip
            scheduler.start()
            journal = Journal()
            print(f"storm: {len(faults)} faults scheduled over {STORM_SECONDS:.0f} s, seed {SEED}", flush=True)
            started, ended, event_cancelled = _storm(stage, injector, faults, journal)
            print(f"storm over; quiet for {QUIET_SECONDS:.0f} s", flush=True)
            time.sleep(QUIET_SECONDS)
            outcome = Outcome.measure(
                seed=SEED, storm=(started, ended), faults=faults, answers=journal.snapshot(),
                event_cancelled=event_cancelled
            )  # fmt: skip
        finally:
            scheduler.stop()
            server.shutdown()
            server.server_close()
            runtime.close()
        write_outcome(outcome, postgres_version)
