"""What an on-sale needs in AWS and what it costs: pure arithmetic over ticketing.capacity.anchors.

The buying path's database CPU is the resource every admitted buyer spends; the model finds the admission rate
each limit allows (database CPU, database connections, Lambda's ramp and account concurrency, API Gateway) and
admits at the lowest. Queueing theory used: the utilisation law (throughput = capacity / cost per unit) and
Little's law (in the system = rate x time in it). docs/capacity.md explains every input and output.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from ticketing.capacity import anchors
from ticketing.capacity.anchors import StepCost

# Keep the writer below this CPU share: above it, p95 latency leaves its low-load value (the knee).
DATABASE_CPU_TARGET = 0.70
# Keep this share of max_connections for the migrations, the workers and an operator.
CONNECTION_HEADROOM = 0.90
# Share of the account's API Gateway throttle the buying path may use; the rest serves queue polls and logins.
API_GATEWAY_SHARE = 0.8
# Steps of the buying path, the function that serves each, and how often an admitted buyer calls it.
STEP_FUNCTIONS: dict[str, str] = {
    "hold": "BookingsFunction",
    "hold-best": "BookingsFunction",
    "create": "BookingsFunction",
    "confirm": "BookingsFunction",
    "cancel": "BookingsFunction",
    "status": "EventsFunction",
    "status-304": "EventsFunction",
}
# A buyer who buys: a hold (a third by best available), a retry after a lost seat now and then, create and
# confirm; one in twenty cancels later. A buyer who leaves without buying held seats half the time.
PURCHASE_CALLS: dict[str, float] = {"hold": 0.8, "hold-best": 0.3, "create": 1.0, "confirm": 1.0, "cancel": 0.05}
BROWSE_CALLS: dict[str, float] = {"hold": 0.5}
# Seat status revalidations that reach the origin: most find a changed map during an on-sale.
STATUS_BUILD_SHARE = 0.8
# The waiting room's public state and the seat status as CloudFront serves them.
STATUS_BYTES_PER_SEAT_GZIP = 0.2


def littles_law(arrival_per_second: float, seconds_inside: float) -> float:
    """How many are inside a system they enter at `arrival_per_second` and stay in for `seconds_inside`."""
    return arrival_per_second * seconds_inside


def utilisation_throughput(capacity: float, cost_per_unit: float) -> float:
    """Units per second a resource of `capacity` (CPU-seconds per second, say) serves at `cost_per_unit` each."""
    return capacity / cost_per_unit if cost_per_unit > 0 else math.inf


def max_connections(memory_gib: float) -> int:
    """Aurora PostgreSQL's default: LEAST({DBInstanceClassMemory/9531392}, 5000)."""
    instance_memory = memory_gib * 2**30 * anchors.INSTANCE_MEMORY_SHARE
    return min(int(instance_memory // anchors.MAX_CONNECTIONS_DIVISOR), anchors.MAX_CONNECTIONS_CAP)


@dataclass(frozen=True)
class Database:
    name: str
    vcpus: float  # in r6g vCPUs
    max_connections: int
    usd_per_hour: float
    proxy_vcpus: float  # what RDS Proxy bills


def database(instance_class: str, serverless_max_acu: float = 16) -> Database:
    """The writer's capacity: one of anchors.INSTANCE_CLASSES, or db.serverless at `serverless_max_acu`."""
    if instance_class == anchors.SERVERLESS:
        memory = serverless_max_acu * anchors.GIB_PER_ACU
        return Database(
            name=f"{instance_class} ({serverless_max_acu:g} ACU)",
            vcpus=serverless_max_acu * anchors.VCPUS_PER_ACU,
            max_connections=max_connections(memory),
            usd_per_hour=serverless_max_acu * anchors.SERVERLESS_USD_PER_ACU_HOUR,
            proxy_vcpus=max(serverless_max_acu, 8),
        )
    known = anchors.INSTANCE_CLASSES.get(instance_class)
    if known is None:
        raise ValueError(f"unknown instance class {instance_class!r}; known: {', '.join(anchors.INSTANCE_CLASSES)}")
    return Database(
        name=known.name,
        vcpus=known.vcpus * known.speed,
        max_connections=max_connections(known.memory_gib),
        usd_per_hour=known.usd_per_hour,
        proxy_vcpus=known.vcpus,
    )


@dataclass(frozen=True)
class OnSale:
    """One on-sale: who comes, what they buy, and what it runs on."""

    name: str
    buyers: int
    seats: int
    tickets_per_order: float = 2.5
    buy_share: float = 0.6  # of admitted buyers, those who complete a purchase
    arrival_first_minute_share: float = 0.5  # the arrival curve: this share arrives in the first minute
    session_minutes: float = 6.0  # an admitted buyer's time on the buying path
    provider_latency_seconds: float = 0.8  # the payment provider's answer, inside confirm
    instance_class: str = "db.r6g.2xlarge"
    serverless_max_acu: float = 16
    instances: int = 2  # writer and a failover replica, both billed
    lambda_memory_mb: int = 512
    lambda_account_concurrency: int = 10_000  # after a quota increase; the default is 1,000
    lambda_ramp_seconds: float = 60.0  # how fast the waiting room opens the tap
    cdn_hit_rate: float = 0.98  # public GETs answered by CloudFront
    status_poll_seconds: float = 2.0  # an admitted buyer's seat-map refresh
    queue_poll_seconds: float = 10.0  # a waiting buyer's poll of its place
    network_ms_per_call: float = 2.0  # Lambda to RDS Proxy to Aurora round trips a call adds
    costs: Mapping[str, StepCost] = field(default_factory=lambda: dict(anchors.MEASURED_STEP_COSTS))
    local_tpcb_cpu_ms: float = anchors.MEASURED_LOCAL_TPCB_CPU_MS


def aurora_cpu_scale(local_tpcb_cpu_ms: float) -> float:
    """Aurora r6g vCPU-seconds per local CPU-second: both sides' CPU per pgbench TPC-B transaction."""
    aurora_ms = anchors.AURORA_TPCB_VCPUS * 1000 / anchors.AURORA_TPCB_TPS
    return aurora_ms / local_tpcb_cpu_ms


@dataclass(frozen=True)
class Plan:
    """What the model answers for one on-sale (docs/capacity.md, "Outputs")."""

    on_sale: OnSale
    database: Database
    limits: dict[str, float]  # admissions per second each limit allows
    binding_limit: str
    admissions_per_second: float
    active_sessions: float
    purchases_per_second: float
    sell_out_minutes: float | None  # None: demand never takes every seat
    minutes_to_admit_everyone: float
    lambda_concurrency: dict[str, float]
    lambda_ramp_seconds: float
    proxy_connections: float
    api_requests_per_second: float
    queue_poll_requests_per_second: float
    queue_poll_seconds_needed: float  # the slowest poll that keeps the waiting line inside API Gateway's rest
    cloudfront_requests_per_second: float
    dynamodb_writes_per_second: float
    dynamodb_reads_per_second: float
    dynamodb_join_keys_needed: int
    cost_usd: dict[str, float]

    @property
    def admit_per_minute(self) -> int:
        return math.floor(self.admissions_per_second * 60)


def _calls_per_admission(on_sale: OnSale) -> dict[str, float]:
    """Origin calls of each step one admitted buyer makes, buyers and browsers averaged."""
    calls = {step: on_sale.buy_share * count for step, count in PURCHASE_CALLS.items()}
    for step, count in BROWSE_CALLS.items():
        calls[step] = calls.get(step, 0.0) + (1 - on_sale.buy_share) * count
    polls = on_sale.session_minutes * 60 / on_sale.status_poll_seconds * (1 - on_sale.cdn_hit_rate)
    calls["status"] = polls * STATUS_BUILD_SHARE
    calls["status-304"] = polls * (1 - STATUS_BUILD_SHARE)
    return calls


def step_cost(on_sale: OnSale, step: str) -> StepCost:
    """One call of `step` for this on-sale's event: the seat status grows with the seats, the rest does not."""
    cost = on_sale.costs[step]
    if step not in anchors.SEAT_COUNT_SCALED_STEPS:
        return cost
    factor = on_sale.seats / anchors.MEASURED_EVENT_SEATS
    return StepCost(cost.database_cpu_ms * factor, cost.function_cpu_ms * factor, cost.transaction_ms * factor)


def _call_seconds(on_sale: OnSale, step: str, cpu_scale: float) -> tuple[float, float]:
    """(database connection-seconds, Lambda duration in seconds) of one call of `step` in AWS."""
    cost = step_cost(on_sale, step)
    in_database = (cost.transaction_ms * cpu_scale + on_sale.network_ms_per_call) / 1000
    cpu_share = min(1.0, on_sale.lambda_memory_mb / anchors.LAMBDA_MB_PER_VCPU)
    duration = cost.function_cpu_ms / 1000 / cpu_share + in_database
    if step == "confirm":
        duration += on_sale.provider_latency_seconds
    return in_database, duration


def plan(on_sale: OnSale) -> Plan:
    db = database(on_sale.instance_class, on_sale.serverless_max_acu)
    cpu_scale = aurora_cpu_scale(on_sale.local_tpcb_cpu_ms)
    calls = _calls_per_admission(on_sale)
    db_cpu = sum(count * step_cost(on_sale, step).database_cpu_ms for step, count in calls.items()) * cpu_scale / 1000
    connection_seconds = 0.0
    function_seconds: dict[str, float] = {}
    for step, count in calls.items():
        in_database, duration = _call_seconds(on_sale, step, cpu_scale)
        connection_seconds += count * in_database
        function = STEP_FUNCTIONS[step]
        function_seconds[function] = function_seconds.get(function, 0.0) + count * duration
    requests = sum(calls.values())
    per_function_ramp = anchors.LAMBDA_SCALE_PER_10_SECONDS * on_sale.lambda_ramp_seconds / 10
    limits = {
        "database CPU": utilisation_throughput(db.vcpus * DATABASE_CPU_TARGET, db_cpu),
        "database connections": utilisation_throughput(db.max_connections * CONNECTION_HEADROOM, connection_seconds),
        "Lambda ramp": min(utilisation_throughput(per_function_ramp, s) for s in function_seconds.values()),
        "Lambda account concurrency": utilisation_throughput(
            on_sale.lambda_account_concurrency, sum(function_seconds.values())
        ),
        "API Gateway": utilisation_throughput(anchors.API_GATEWAY_ACCOUNT_RPS * API_GATEWAY_SHARE, requests),
    }
    binding = min(limits, key=lambda name: limits[name])
    admissions = limits[binding]
    return _outputs(on_sale, db, limits, binding, admissions, calls, function_seconds, connection_seconds)


def _outputs(
    on_sale: OnSale,
    db: Database,
    limits: dict[str, float],
    binding: str,
    admissions: float,
    calls: dict[str, float],
    function_seconds: dict[str, float],
    connection_seconds: float,
) -> Plan:
    session_seconds = on_sale.session_minutes * 60
    # Little's law, until the crowd runs out: a small crowd is all inside at once.
    active = min(littles_law(admissions, session_seconds), float(on_sale.buyers))
    purchases = admissions * on_sale.buy_share
    demand_seats = on_sale.buyers * on_sale.buy_share * on_sale.tickets_per_order
    sell_out = on_sale.seats / (purchases * on_sale.tickets_per_order) / 60 if demand_seats >= on_sale.seats else None
    admit_everyone = on_sale.buyers / admissions / 60
    concurrency = {function: littles_law(admissions, seconds) for function, seconds in function_seconds.items()}
    api_rps = admissions * sum(calls.values())
    # The waiting line at its longest: the first minute's arrivals less the first minute's admissions.
    waiting = max(0.0, on_sale.buyers * on_sale.arrival_first_minute_share - admissions * 60)
    # Waiting buyers poll their place through API Gateway: slower than asked when the line is long.
    poll_seconds_needed = waiting / (anchors.API_GATEWAY_ACCOUNT_RPS * (1 - API_GATEWAY_SHARE))
    queue_polls = waiting / max(on_sale.queue_poll_seconds, poll_seconds_needed)
    viewer_rps = queue_polls + active / on_sale.status_poll_seconds
    joins_per_second = on_sale.buyers * on_sale.arrival_first_minute_share / 60
    writes = joins_per_second + admissions
    plan_ = Plan(
        on_sale=on_sale,
        database=db,
        limits=limits,
        binding_limit=binding,
        admissions_per_second=admissions,
        active_sessions=active,
        purchases_per_second=purchases,
        sell_out_minutes=sell_out,
        minutes_to_admit_everyone=admit_everyone,
        lambda_concurrency=concurrency,
        lambda_ramp_seconds=max(concurrency.values()) / anchors.LAMBDA_SCALE_PER_10_SECONDS * 10,
        proxy_connections=littles_law(admissions, connection_seconds),
        api_requests_per_second=api_rps + queue_polls,
        queue_poll_requests_per_second=queue_polls,
        queue_poll_seconds_needed=poll_seconds_needed,
        cloudfront_requests_per_second=viewer_rps,
        dynamodb_writes_per_second=writes,
        dynamodb_reads_per_second=queue_polls,
        dynamodb_join_keys_needed=max(1, math.ceil(joins_per_second / anchors.DYNAMODB_WRITES_PER_KEY)),
        cost_usd={},
    )
    return _with_hour_cost(plan_, function_seconds)


def _with_hour_cost(result: Plan, function_seconds: dict[str, float]) -> Plan:
    """The cost of one hour of the on-sale at the planned rate (or until everyone was admitted)."""
    on_sale = result.on_sale
    busy_seconds = min(3600.0, result.minutes_to_admit_everyone * 60)
    admitted = result.admissions_per_second * busy_seconds
    gb_seconds = admitted * sum(function_seconds.values()) * on_sale.lambda_memory_mb / 1024
    origin_requests = admitted * result.api_requests_per_second / result.admissions_per_second
    # Viewers keep polling until the last admitted session ends.
    viewer_requests = result.cloudfront_requests_per_second * min(3600.0, busy_seconds + on_sale.session_minutes * 60)
    status_gb = viewer_requests * on_sale.seats * STATUS_BYTES_PER_SEAT_GZIP / 1e9
    cost = {
        "Aurora": result.database.usd_per_hour * on_sale.instances,
        "RDS Proxy": result.database.proxy_vcpus * on_sale.instances * anchors.RDS_PROXY_USD_PER_VCPU_HOUR,
        "Lambda": gb_seconds * anchors.LAMBDA_USD_PER_GB_SECOND
        + origin_requests / 1e6 * anchors.LAMBDA_USD_PER_MILLION_REQUESTS,
        "API Gateway": origin_requests / 1e6 * anchors.API_GATEWAY_USD_PER_MILLION,
        "CloudFront": viewer_requests / 1e6 * anchors.CLOUDFRONT_USD_PER_MILLION_HTTPS
        + status_gb * anchors.CLOUDFRONT_USD_PER_GB_OUT,
        "DynamoDB": result.dynamodb_writes_per_second * busy_seconds / 1e6 * anchors.DYNAMODB_USD_PER_MILLION_WRITES
        + result.dynamodb_reads_per_second * busy_seconds / 1e6 * anchors.DYNAMODB_USD_PER_MILLION_READS,
    }
    cost["total"] = sum(cost.values())
    return replace(result, cost_usd=cost)


def local_purchases_per_second(cpu_ms_per_purchase: float, cores: float) -> float:
    """This machine's prediction: its cores (what other work leaves of them) over the CPU of one purchase,
    database and functions together, since both run on the same cores here."""
    return utilisation_throughput(cores * 1000, cpu_ms_per_purchase)
