"""The capacity model's arithmetic (docs/capacity.md): pure functions, no timing, no database."""

from __future__ import annotations

from dataclasses import replace

import pytest

from ticketing.capacity import admit_per_minute
from ticketing.capacity.anchors import StepCost
from ticketing.capacity.model import (
    OnSale,
    database,
    littles_law,
    local_purchases_per_second,
    max_connections,
    plan,
    step_cost,
    utilisation_throughput,
)

ARENA = OnSale(name="arena", buyers=200_000, seats=20_000, instance_class="db.r6g.2xlarge")  # the measured size


def test_littles_law_multiplies_arrival_rate_by_time_inside() -> None:
    assert littles_law(50, 360) == 18_000


def test_the_utilisation_law_divides_capacity_by_cost_per_unit() -> None:
    assert utilisation_throughput(2.0, 0.05) == pytest.approx(40.0)


def test_max_connections_of_db_r6g_large_is_the_published_1722() -> None:
    assert max_connections(16) == 1_722


def test_max_connections_stops_at_5000_from_db_r6g_2xlarge() -> None:
    assert max_connections(32) < 5_000
    assert max_connections(64) == 5_000
    assert max_connections(512) == 5_000


def test_serverless_capacity_counts_a_quarter_vcpu_and_two_gib_per_acu() -> None:
    serverless = database("db.serverless", serverless_max_acu=16)

    assert serverless.vcpus == 4
    assert serverless.max_connections == max_connections(32)


def test_an_unknown_instance_class_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match=r"db\.m5\.large"):
        database("db.m5.large")


def test_the_admission_rate_is_the_lowest_limit_and_names_it() -> None:
    result = plan(ARENA)

    assert result.admissions_per_second == min(result.limits.values())
    assert result.limits[result.binding_limit] == result.admissions_per_second


def test_a_database_twice_as_large_admits_twice_as_fast_while_its_cpu_binds() -> None:
    small = plan(replace(ARENA, instance_class="db.r6g.xlarge"))
    large = plan(replace(ARENA, instance_class="db.r6g.2xlarge"))

    assert (small.binding_limit, large.binding_limit) == ("database CPU", "database CPU")
    assert large.admissions_per_second == pytest.approx(2 * small.admissions_per_second)


def test_a_small_account_concurrency_becomes_the_binding_limit() -> None:
    result = plan(replace(ARENA, instance_class="db.r6g.16xlarge", lambda_account_concurrency=10))

    assert result.binding_limit == "Lambda account concurrency"


def test_slow_transactions_make_connections_the_binding_limit() -> None:
    slow = {step: StepCost(database_cpu_ms=0.01, function_cpu_ms=1, transaction_ms=10_000) for step in ARENA.costs}

    result = plan(replace(ARENA, costs=slow))

    assert result.binding_limit == "database connections"


def test_active_sessions_follow_littles_law() -> None:
    result = plan(ARENA)

    assert result.active_sessions == pytest.approx(result.admissions_per_second * ARENA.session_minutes * 60)


def test_sell_out_time_is_seats_over_the_rate_seats_are_bought() -> None:
    result = plan(ARENA)
    seats_per_second = result.admissions_per_second * ARENA.buy_share * ARENA.tickets_per_order

    assert result.sell_out_minutes == pytest.approx(ARENA.seats / seats_per_second / 60)


def test_a_crowd_too_small_to_buy_every_seat_never_sells_out() -> None:
    result = plan(replace(ARENA, buyers=1_000))

    assert result.sell_out_minutes is None


def test_the_hour_costs_the_sum_of_its_services() -> None:
    cost = plan(ARENA).cost_usd

    assert cost["total"] == pytest.approx(sum(value for name, value in cost.items() if name != "total"))
    assert cost["Aurora"] > 0


def test_the_admission_ceiling_is_the_plans_rate_per_minute() -> None:
    assert admit_per_minute("db.r6g.2xlarge") == plan(replace(ARENA, buyers=200_000)).admit_per_minute
    assert admit_per_minute("db.r6g.4xlarge") > admit_per_minute("db.r6g.large")


def test_the_local_prediction_divides_the_cores_by_the_cpu_of_a_purchase() -> None:
    assert local_purchases_per_second(cpu_ms_per_purchase=50, cores=2) == pytest.approx(40)


def test_building_the_seat_status_costs_in_proportion_to_the_seats() -> None:
    stadium = replace(ARENA, seats=60_000)

    assert step_cost(stadium, "status").database_cpu_ms == pytest.approx(3 * ARENA.costs["status"].database_cpu_ms)
    assert step_cost(stadium, "hold") == ARENA.costs["hold"]


def test_a_crowd_smaller_than_the_rate_allows_is_all_inside_at_once() -> None:
    result = plan(replace(ARENA, buyers=1_000))

    assert result.active_sessions == 1_000
