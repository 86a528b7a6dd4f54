"""The figures the capacity model scales with, each with where it comes from (docs/capacity.md).

Three kinds: AWS's published limits and formulas, AWS list prices (dated), and what one purchase costs,
measured on the development machine by `python -m bench knee` and scaled to Aurora through pgbench's TPC-B,
which was run on both. Pure data: importing this module loads nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass

# --- Aurora PostgreSQL instance classes -----------------------------------------------------------------------


@dataclass(frozen=True)
class InstanceClass:
    name: str
    vcpus: float
    memory_gib: float
    usd_per_hour: float
    # Work per vCPU relative to a Graviton2 (r6g) vCPU.
    speed: float = 1.0


# vCPU and memory: the RDS instance-class table (docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/
# Concepts.DBInstanceClass.Summary.html). r7g (Graviton3) counted 1.2x an r6g vCPU: AWS announces up to 30 %
# more throughput for Aurora on r7g; we take the lower side until we measure it.
_GRAVITON3_SPEED = 1.2
# Aurora Serverless v2: one ACU is about 2 GiB of memory "with corresponding CPU"; db.r6g.large (2 vCPU,
# 16 GiB) equals 8 ACU, so one ACU counts as a quarter of an r6g vCPU.
VCPUS_PER_ACU = 0.25
GIB_PER_ACU = 2.0

_SIZES = {"large": 2, "xlarge": 4, "2xlarge": 8, "4xlarge": 16, "8xlarge": 32, "12xlarge": 48, "16xlarge": 64}

# Prices: us-east-1, on-demand, Aurora Standard (docs/capacity.md, "Prices"). PRICES_AS_OF is when they
# were written into this table from aws.amazon.com/rds/aurora/pricing and the other services' price pages;
# check them there before quoting a budget.
PRICES_AS_OF = "2026-12-03"
_R6G_USD_PER_VCPU_HOUR = 0.13  # db.r6g.large 0.26 USD/h; the family scales linearly with size
_R7G_USD_PER_VCPU_HOUR = 0.138  # db.r7g.large 0.276 USD/h
SERVERLESS_USD_PER_ACU_HOUR = 0.12

INSTANCE_CLASSES: dict[str, InstanceClass] = {
    **{
        f"db.r6g.{size}": InstanceClass(f"db.r6g.{size}", vcpus, vcpus * 8, round(vcpus * _R6G_USD_PER_VCPU_HOUR, 3))
        for size, vcpus in _SIZES.items()
    },
    **{
        f"db.r7g.{size}": InstanceClass(
            f"db.r7g.{size}", vcpus, vcpus * 8, round(vcpus * _R7G_USD_PER_VCPU_HOUR, 3), _GRAVITON3_SPEED
        )
        for size, vcpus in _SIZES.items()
    },
}
SERVERLESS = "db.serverless"

# max_connections on Aurora PostgreSQL: LEAST({DBInstanceClassMemory/9531392}, 5000) (the Aurora user guide,
# "Maximum connections to an Aurora PostgreSQL DB instance"). DBInstanceClassMemory is the instance's memory
# less what the OS and RDS keep; 0.9555 of it reproduces the published 1,722 of db.r6g.large (16 GiB).
MAX_CONNECTIONS_DIVISOR = 9_531_392
MAX_CONNECTIONS_CAP = 5_000
INSTANCE_MEMORY_SHARE = 0.9555

# pgbench TPC-B on Aurora PostgreSQL: about 11,000-12,000 transactions/s on db.r6g.4xlarge (16 vCPU) at
# saturation (AWS's published Graviton2 pgbench runs). Used as CPU-seconds per TPC-B transaction on an r6g
# vCPU, next to the same figure measured locally by `python -m bench capacity`.
AURORA_TPCB_TPS = 11_500
AURORA_TPCB_VCPUS = 16

# --- Other services' limits -----------------------------------------------------------------------------------

LAMBDA_SCALE_PER_10_SECONDS = 1_000  # each function adds 1,000 environments every 10 s (Lambda docs, scaling)
LAMBDA_DEFAULT_ACCOUNT_CONCURRENCY = 1_000  # the default Region quota; raise it before an on-sale
LAMBDA_MB_PER_VCPU = 1_769  # a function gets one full vCPU at 1,769 MB (Lambda docs, memory and computing power)
API_GATEWAY_ACCOUNT_RPS = 10_000  # REST API throttle per account and Region (API Gateway quotas)
CLOUDFRONT_DISTRIBUTION_RPS = 250_000  # requests per second per distribution (CloudFront quotas)
DYNAMODB_WRITES_PER_KEY = 1_000  # write units per second on one partition key (DynamoDB partitions)

# --- Prices of the other services (us-east-1, as of PRICES_AS_OF) ---------------------------------------------

LAMBDA_USD_PER_GB_SECOND = 0.0000166667  # x86_64, the template's architecture
LAMBDA_USD_PER_MILLION_REQUESTS = 0.20
API_GATEWAY_USD_PER_MILLION = 3.50  # REST API, first 333 million a month
CLOUDFRONT_USD_PER_MILLION_HTTPS = 1.00  # 0.0100 USD per 10,000 HTTPS requests, North America and Europe
CLOUDFRONT_USD_PER_GB_OUT = 0.085  # first 10 TB a month
DYNAMODB_USD_PER_MILLION_WRITES = 0.625  # on-demand write request units
DYNAMODB_USD_PER_MILLION_READS = 0.125  # on-demand read request units
RDS_PROXY_USD_PER_VCPU_HOUR = 0.015  # per vCPU of the instances behind it (per ACU for Serverless v2, min 8)

# --- What one call costs, measured here -----------------------------------------------------------------------


@dataclass(frozen=True)
class StepCost:
    """One call of a step of the buying path on the development machine, median of `python -m bench knee`."""

    database_cpu_ms: float  # PostgreSQL backend CPU
    function_cpu_ms: float  # the handler's own CPU (validation, JSON, pg8000)
    transaction_ms: float  # the call's time inside PostgreSQL, waits and round trips included


# Medians of three runs of `python -m bench knee` / `capacity`, 2026-12-03, embedded PostgreSQL 18.6 on 2 shared
# cores, one client, handlers in-process, on a 20,000-seat event (docs/capacity.md, docs/benchmarks.md "Knee").
MEASURED_STEP_COSTS: dict[str, StepCost] = {
    "hold": StepCost(database_cpu_ms=2.0, function_cpu_ms=3.75, transaction_ms=5.61),
    "hold-best": StepCost(database_cpu_ms=7.75, function_cpu_ms=6.5, transaction_ms=18.66),
    "create": StepCost(database_cpu_ms=6.0, function_cpu_ms=6.75, transaction_ms=8.09),
    "confirm": StepCost(database_cpu_ms=5.75, function_cpu_ms=7.75, transaction_ms=7.39),
    "cancel": StepCost(database_cpu_ms=9.5, function_cpu_ms=11.0, transaction_ms=17.55),
    "status": StepCost(database_cpu_ms=10.5, function_cpu_ms=4.75, transaction_ms=13.06),
    "status-304": StepCost(database_cpu_ms=1.75, function_cpu_ms=3.75, transaction_ms=4.52),
}
# The seats of the event the costs were measured on: building the seat status grows with the seats.
MEASURED_EVENT_SEATS = 20_000
SEAT_COUNT_SCALED_STEPS = frozenset({"status"})
# The local PostgreSQL's CPU per pgbench TPC-B transaction, measured in the same runs as the costs above.
MEASURED_LOCAL_TPCB_CPU_MS = 0.588
