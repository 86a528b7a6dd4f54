"""The capacity model, fed by this run's measurements and checked against this machine.

1. pgbench's TPC-B on the embedded PostgreSQL: its CPU per transaction, next to Aurora's published TPC-B
   figure, scales this machine's database CPU to an Aurora vCPU (ticketing.capacity.model.aurora_cpu_scale).
2. bench/step_costs.py: each step's cost through the handlers; these are the model's per-call inputs.
3. Validation, ROUNDS times: the purchase mix (bench/purchase_mix.py) at 1 client gives the CPU of one
   purchase here (runner, functions and PostgreSQL together); the model predicts purchases/s from it and the
   cores other work left free during the saturated level, and the same mix at SATURATION_CLIENTS measures
   it. Medians of the rounds.
4. The three scenarios of docs/capacity.md and the admission ceiling of every instance class.
Results: bench/results/capacity.md, and the generated sections of docs/capacity.md and docs/benchmarks.md.
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
from dataclasses import dataclass, replace
from pathlib import Path

import psutil

from bench.harness import REPO_ROOT, bench_setup, replace_doc_section
from bench.machine import machine_lines
from bench.purchase_mix import (
    ROWS,
    SEATS_PER_ROW,
    CpuMeter,
    LevelResult,
    postgres_cpu_seconds,
    postmaster_pid,
    run_level,
)
from bench.step_costs import Cost, measure_step_costs, step_table
from ticketing.capacity.anchors import MEASURED_EVENT_SEATS, StepCost

SATURATION_CLIENTS = int(os.environ.get("CAPACITY_SATURATION_CLIENTS", "32"))
LEVEL_SECONDS = float(os.environ.get("CAPACITY_LEVEL_SECONDS", "10"))
TPCB_SECONDS = 8
TPCB_CLIENTS = 4
GOAL = 0.25
ROUNDS = 3
RESULTS = REPO_ROOT / "bench" / "results" / "capacity.md"
CAPACITY_DOC = REPO_ROOT / "docs" / "capacity.md"


def local_tpcb_cpu_ms() -> float:
    """PostgreSQL CPU per pgbench TPC-B transaction on this machine (scale 4, TPCB_CLIENTS clients)."""
    from devtools.embedded_db import server_binaries
    from ticketing.db.dsn import parse_database_url

    params = parse_database_url(os.environ["DATABASE_URL"])
    pgbench = str(Path(server_binaries()) / "pgbench")
    arguments = ["-h", params.host, "-p", str(params.port), "-U", params.user, params.database]
    environment = {**os.environ, "PGPASSWORD": params.password or ""}
    subprocess.run([pgbench, "-i", "-q", "-s", "4", *arguments], check=True, env=environment, capture_output=True)
    postmaster = psutil.Process(postmaster_pid())
    before = postgres_cpu_seconds(postmaster)
    run = subprocess.run(
        [pgbench, "-n", "-c", str(TPCB_CLIENTS), "-j", "2", "-T", str(TPCB_SECONDS), *arguments],
        check=True,
        env=environment,
        capture_output=True,
        text=True,
    )
    cpu = postgres_cpu_seconds(postmaster) - before
    processed = re.search(r"number of transactions actually processed: (\d+)", run.stdout)
    if processed is None:
        raise RuntimeError(f"pgbench said: {run.stdout[-500:]}")
    return cpu * 1000 / int(processed.group(1))


def _model_costs(costs: list[Cost]) -> dict[str, StepCost]:
    if ROWS * SEATS_PER_ROW != MEASURED_EVENT_SEATS:
        raise RuntimeError("the model scales the seat status from MEASURED_EVENT_SEATS: measure on that size")
    return {
        cost.step: StepCost(
            database_cpu_ms=round(cost.database_cpu_ms, 2),
            function_cpu_ms=round(cost.function_cpu_ms, 2),
            transaction_ms=round(cost.transaction_ms, 2),
        )
        for cost in costs
        if cost.way == "handler"
    }


def main() -> None:
    from bench.bookings_bench import _buyers
    from devtools.run_api import running_api

    with bench_setup("capacity_bench") as setup:
        tpcb_ms = local_tpcb_cpu_ms()
        print(f"pgbench TPC-B: {tpcb_ms:.3f} ms of PostgreSQL CPU per transaction", flush=True)
        costs = measure_step_costs(setup.api)
        tokens = [token for _, token in _buyers(SATURATION_CLIENTS * 4)]
        meter = CpuMeter(postmaster_pid())
        with running_api(REPO_ROOT / "template.yaml") as base_url:
            run_level(base_url, 2, 2.0, tokens, meter)  # warm-up: the runner starts its workers
            rounds = [
                (
                    run_level(base_url, 1, LEVEL_SECONDS, tokens, meter),
                    run_level(base_url, SATURATION_CLIENTS, LEVEL_SECONDS, tokens, meter),
                )
                for _ in range(ROUNDS)
            ]
        version = setup.postgres_version
    _write(tpcb_ms, costs, rounds, version)


@dataclass(frozen=True)
class Round:
    cpu_ms_per_purchase: float  # at 1 client
    free_cores: float  # during the saturated level
    predicted: float
    measured: float
    io_wait_cores: float  # during the saturated level

    @property
    def deviation(self) -> float:
        return self.predicted / self.measured - 1 if self.measured else float("inf")


def _round(quiet: LevelResult, busy: LevelResult) -> Round:
    from ticketing.capacity.model import local_purchases_per_second

    free = busy.cores_left_by_other_work
    predicted = local_purchases_per_second(quiet.cpu_ms_per_purchase, free)
    io_wait = busy.io_wait_seconds / busy.seconds if busy.seconds else 0.0
    return Round(quiet.cpu_ms_per_purchase, free, predicted, busy.purchases_per_second, io_wait)


def _validation(pairs: list[tuple[LevelResult, LevelResult]]) -> tuple[list[str], str]:
    """Each round predicts from its own 1-client cost and the cores left free during its saturated level."""
    rounds = [_round(quiet, busy) for quiet, busy in pairs]

    def figures(values: list[float], unit: str = "") -> str:
        return f"**{statistics.median(values):.1f}{unit}** ({', '.join(f'{v:.1f}' for v in values)})"

    deviation = statistics.median(round_.deviation for round_ in rounds)
    lines = [
        f"| this machine, median of {len(rounds)} rounds (each round's figure) | figure |",
        "|---|---|",
        "| CPU of one purchase at 1 client: runner, functions, PostgreSQL (ms) |"
        f" {figures([r.cpu_ms_per_purchase for r in rounds])} |",
        f"| cores other work left free during the {SATURATION_CLIENTS}-client level (of {os.cpu_count()}) |"
        f" {figures([r.free_cores for r in rounds])} |",
        f"| cores idle waiting for the disk during that level | {figures([r.io_wait_cores for r in rounds])} |",
        f"| model: purchases/s = free cores / CPU per purchase | {figures([r.predicted for r in rounds])} |",
        f"| measured: purchases/s at {SATURATION_CLIENTS} clients | {figures([r.measured for r in rounds])} |",
        f"| prediction / measured - 1 (goal within ±{GOAL:.0%}) | **{deviation:+.0%}**"
        f" ({', '.join(f'{r.deviation:+.0%}' for r in rounds)}) |",
    ]
    verdict = "met" if abs(deviation) <= GOAL else "NOT met"
    return lines, f"Validation goal (±{GOAL:.0%}): {verdict}, median {deviation:+.0%}."


def _scenario_table(costs: dict[str, StepCost], tpcb_ms: float) -> list[str]:
    from ticketing.capacity.model import OnSale, plan

    scenarios = [
        OnSale(name="club", buyers=10_000, seats=2_000, instance_class="db.r6g.large"),
        OnSale(name="arena", buyers=200_000, seats=20_000, instance_class="db.r6g.2xlarge"),
        OnSale(name="stadium", buyers=2_000_000, seats=60_000, instance_class="db.r6g.16xlarge", tickets_per_order=3),
    ]
    plans = [plan(replace(s, costs=costs, local_tpcb_cpu_ms=tpcb_ms)) for s in scenarios]

    def row(name: str, values: list[str]) -> str:
        return f"| {name} | " + " | ".join(values) + " |"

    def sell_out(minutes: float | None) -> str:
        return f"{minutes:,.1f} min" if minutes is not None else "never (demand < seats)"

    lines = [
        row("", [f"{p.on_sale.name}: {p.on_sale.buyers:,} buyers, {p.on_sale.seats:,} seats" for p in plans]),
        "|---|" + "---|" * len(plans),
        row("Aurora writer", [p.database.name for p in plans]),
        row("safe admission rate", [f"{p.admit_per_minute:,}/min ({p.admissions_per_second:,.0f}/s)" for p in plans]),
        row("binding limit", [p.binding_limit for p in plans]),
        row("next limit (admissions/s)", [_next_limit(p.limits, p.binding_limit) for p in plans]),
        row("active sessions (Little's law)", [f"{p.active_sessions:,.0f}" for p in plans]),
        row("purchases/s", [f"{p.purchases_per_second:,.1f}" for p in plans]),
        row("sell-out time", [sell_out(p.sell_out_minutes) for p in plans]),
        row("time to admit every buyer", [f"{p.minutes_to_admit_everyone:,.0f} min" for p in plans]),
        row(
            "Lambda concurrency",
            [
                ", ".join(f"{f.removesuffix('Function')} {c:,.0f}" for f, c in p.lambda_concurrency.items())
                for p in plans
            ],
        ),
        row("Lambda ramp to that (s)", [f"{p.lambda_ramp_seconds:,.0f}" for p in plans]),
        row("RDS Proxy connections to Aurora", [f"{p.proxy_connections:,.0f}" for p in plans]),
        row("max_connections", [f"{p.database.max_connections:,}" for p in plans]),
        row("API Gateway requests/s", [f"{p.api_requests_per_second:,.0f}" for p in plans]),
        row(
            "of which queue polls; poll interval needed",
            [
                f"{p.queue_poll_requests_per_second:,.0f};"
                f" {max(p.on_sale.queue_poll_seconds, p.queue_poll_seconds_needed):,.0f} s"
                for p in plans
            ],
        ),
        row("CloudFront requests/s (viewers)", [f"{p.cloudfront_requests_per_second:,.0f}" for p in plans]),
        row(
            "DynamoDB writes/s; reads/s",
            [f"{p.dynamodb_writes_per_second:,.0f}; {p.dynamodb_reads_per_second:,.0f}" for p in plans],
        ),
        row("DynamoDB join keys (1,000 writes/s each)", [str(p.dynamodb_join_keys_needed) for p in plans]),
    ]
    for service in plans[0].cost_usd:
        label = "**one hour, USD**" if service == "total" else f"hour cost: {service} (USD)"
        lines.append(row(label, [f"{p.cost_usd[service]:,.2f}" for p in plans]))
    return lines


def _next_limit(limits: dict[str, float], binding: str) -> str:
    name = sorted((value, key) for key, value in limits.items() if key != binding)[0]
    return f"{name[1]}: {name[0]:,.0f}"


def _ceiling_table(costs: dict[str, StepCost], tpcb_ms: float) -> list[str]:
    from ticketing.capacity.anchors import INSTANCE_CLASSES, SERVERLESS
    from ticketing.capacity.model import OnSale, plan

    profile = OnSale(name="ceiling", buyers=200_000, seats=20_000, costs=costs, local_tpcb_cpu_ms=tpcb_ms)
    lines = ["| instance class | admitPerMinute | binding limit |", "|---|---|---|"]
    for name in [SERVERLESS, *INSTANCE_CLASSES]:
        result = plan(replace(profile, instance_class=name))
        lines.append(f"| {result.database.name} | {result.admit_per_minute:,} | {result.binding_limit} |")
    return lines


def _write(tpcb_ms: float, costs: list[Cost], rounds: list[tuple[LevelResult, LevelResult]], version: str) -> None:
    from ticketing.capacity.model import aurora_cpu_scale

    model_costs = _model_costs(costs)
    validation, verdict = _validation(rounds)
    load = os.getloadavg()
    calibration = (
        f"pgbench TPC-B here: {tpcb_ms:.3f} ms of PostgreSQL CPU per transaction; Aurora's published figure"
        f" gives {aurora_cpu_scale(tpcb_ms):.2f} r6g vCPU-seconds per local CPU-second. Load average at the end:"
        f" {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}."
    )
    scenarios = _scenario_table(model_costs, tpcb_ms)
    ceilings = _ceiling_table(model_costs, tpcb_ms)
    body = [
        "## Step costs (the model's inputs)",
        "",
        *step_table(costs),
        "",
        calibration,
        "",
        "## Validation",
        "",
        *validation,
        "",
        verdict,
        "",
        "## Scenarios",
        "",
        *scenarios,
        "",
        "## Admission ceiling per instance class",
        "",
        *ceilings,
        "",
    ]
    header = [
        "# Capacity benchmark",
        "",
        "`python -m bench capacity` (bench/capacity_bench.py); method in docs/capacity.md.",
    ]
    RESULTS.write_text("\n".join([*header, "", *machine_lines(version), "", *body]))
    print(RESULTS.read_text())
    stamp = (
        f"Generated by `python -m bench capacity` ({machine_lines(version)[0].removeprefix('- date: ')}); {calibration}"
    )
    replace_doc_section("Scenarios (generated)", [stamp, "", *scenarios], doc=CAPACITY_DOC)
    replace_doc_section("Admission ceiling per instance class (generated)", [stamp, "", *ceilings], doc=CAPACITY_DOC)
    replace_doc_section(
        "Validation on this machine (generated)", [stamp, "", *validation, "", verdict], doc=CAPACITY_DOC
    )
    replace_doc_section(
        "Capacity model validation",
        [
            "`python -m bench capacity` → `bench/capacity_bench.py`, results in `bench/results/capacity.md`; the"
            " model and its scenarios: docs/capacity.md.",
            "",
            *validation,
            "",
            verdict,
        ],
    )


if __name__ == "__main__":
    main()
