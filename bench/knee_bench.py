"""The database's knee: each step's cost, then the purchase mix at 1, 2, 4, ... 128 clients.

(a) bench/step_costs.py: each step of the buying path, one call at a time, through the handlers and as raw SQL.
(b) bench/purchase_mix.py: at each level (KNEE_LEVELS, default 1 to 128 doubling), that many clients buy for
    KNEE_LEVEL_SECONDS (default 8) on a fresh 20,000-seat event, over real HTTP through the local runner.
    Per level: purchases/s, purchase latency p50/p95/p99 (status read to confirmed), 409s, CPU per purchase.
    The knee is the highest throughput before p95 reaches twice its value at the lowest level.
Results: bench/results/knee.md, the plot docs/capacity-knee.png, and docs/benchmarks.md ("Knee").
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from bench.harness import REPO_ROOT, bench_setup, replace_doc_section
from bench.machine import machine_lines
from bench.purchase_mix import PURCHASE_STEPS, ROWS, SEATS_PER_ROW, CpuMeter, LevelResult, postmaster_pid, run_level
from bench.step_costs import measure_step_costs, step_table

LEVELS = [int(level) for level in os.environ.get("KNEE_LEVELS", "1,2,4,8,16,32,64,128").split(",")]
LEVEL_SECONDS = float(os.environ.get("KNEE_LEVEL_SECONDS", "10"))
P95_FACTOR = 2.0
RESULTS = REPO_ROOT / "bench" / "results" / "knee.md"
PLOT = REPO_ROOT / "docs" / "capacity-knee.png"
# Buyers per client: enough that no buyer reaches maxTicketsPerUser (100) within a level.
BUYERS_PER_CLIENT = 4


def knee(levels: Sequence[LevelResult]) -> LevelResult:
    """The level of highest throughput before p95 first reaches P95_FACTOR times the first level's p95."""
    ceiling = levels[0].latency_ms(0.95) * P95_FACTOR
    before = []
    for level in levels:
        if level.latency_ms(0.95) >= ceiling:
            break
        before.append(level)
    return max(before or levels[:1], key=lambda level: level.purchases_per_second)


def level_table(levels: Sequence[LevelResult]) -> list[str]:
    lines = [
        "| clients | purchases/s | per core left free | p50 (ms) | p95 (ms) | p99 (ms) | 409s retried"
        " | CPU per purchase (ms), all / PostgreSQL | cores other work took | cores idle waiting for the disk"
        " | errors |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for level in levels:
        cores_taken = (os.cpu_count() or 1) - level.cores_left_by_other_work
        per_free_core = level.purchases_per_second / max(level.cores_left_by_other_work, 0.01)
        database_ms = level.database_cpu_seconds * 1000 / level.purchases if level.purchases else float("nan")
        lines.append(
            f"| {level.clients} | {level.purchases_per_second:.1f} | {per_free_core:.1f} |"
            f" {level.latency_ms(0.5):,.0f} | {level.latency_ms(0.95):,.0f} | {level.latency_ms(0.99):,.0f} |"
            f" {level.conflicts} |"
            f" {level.cpu_ms_per_purchase:.1f} / {database_ms:.1f} | {cores_taken:.2f} |"
            f" {level.io_wait_seconds / level.seconds:.2f} | {len(level.failures)} |"
        )
    return lines


def plot(levels: Sequence[LevelResult], chosen: LevelResult) -> None:
    """Throughput and latency against clients, the knee marked; written with matplotlib's file-only backend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    clients = [level.clients for level in levels]
    figure, throughput_axis = plt.subplots(figsize=(9, 5), dpi=110)
    throughput_axis.plot(clients, [level.purchases_per_second for level in levels], "o-", color="tab:blue")
    throughput_axis.set_xscale("log", base=2)
    throughput_axis.set_xticks(clients, [str(c) for c in clients])
    throughput_axis.set_xlabel("concurrent clients")
    throughput_axis.set_ylabel("purchases / s (dots)", color="tab:blue")
    throughput_axis.axvline(chosen.clients, color="grey", linestyle=":")
    throughput_axis.annotate(
        f"knee: {chosen.purchases_per_second:.1f}/s at {chosen.clients}",
        (chosen.clients, chosen.purchases_per_second),
        textcoords="offset points",
        xytext=(8, -14),
    )
    latency_axis = throughput_axis.twinx()
    for fraction, style in ((0.5, "--"), (0.95, "-"), (0.99, ":")):
        latency_axis.plot(
            clients,
            [level.latency_ms(fraction) for level in levels],
            style,
            color="tab:red",
            label=f"p{fraction * 100:g}",
        )
    latency_axis.axhline(
        levels[0].latency_ms(0.95) * P95_FACTOR,
        color="tab:red",
        alpha=0.3,
        linewidth=4,
        label=f"{P95_FACTOR:g}x p95 at {levels[0].clients} client(s)",
    )
    latency_axis.set_yscale("log")
    latency_axis.set_ylabel("purchase latency (ms)", color="tab:red")
    latency_axis.legend(loc="upper left")
    throughput_axis.set_title(
        f"Purchase mix through the local runner ({', '.join(PURCHASE_STEPS)}; {ROWS * SEATS_PER_ROW:,} seats)"
    )
    figure.tight_layout()
    figure.savefig(PLOT)
    plt.close(figure)


def main() -> None:
    from bench.bookings_bench import _buyers
    from devtools.run_api import running_api

    with bench_setup("knee_bench") as setup:
        costs = measure_step_costs(setup.api)
        tokens = [token for _, token in _buyers(max(LEVELS) * BUYERS_PER_CLIENT)]
        meter = CpuMeter(postmaster_pid())
        levels = []
        with running_api(REPO_ROOT / "template.yaml") as base_url:
            run_level(base_url, 2, 2.0, tokens, meter)  # warm-up: the runner starts its workers
            for clients in LEVELS:
                level = run_level(base_url, clients, LEVEL_SECONDS, tokens, meter)
                p95 = level.latency_ms(0.95)
                print(f"{clients} clients: {level.purchases_per_second:.1f} purchases/s, p95 {p95:,.0f} ms", flush=True)
                levels.append(level)
        load = os.getloadavg()
        version = setup.postgres_version
    chosen = knee(levels)
    plot(levels, chosen)
    summary = (
        f"Knee: {chosen.purchases_per_second:.1f} purchases/s at {chosen.clients} clients (p95"
        f" {chosen.latency_ms(0.95):,.0f} ms; p95 at {levels[0].clients} client(s):"
        f" {levels[0].latency_ms(0.95):,.0f} ms)."
        f" Load average at the end: {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}."
    )
    header = [
        "# Knee benchmark",
        "",
        f"`python -m bench knee` (bench/knee_bench.py). Step costs: {len(costs)} rows, one client, medians of wall"
        " time, CPU per call averaged over the calls. Levels: clients buying for"
        f" {LEVEL_SECONDS:g} s each on a fresh {ROWS * SEATS_PER_ROW:,}-seat event over HTTP through the local runner"
        " (LOCAL_CONCURRENCY workers per function), one run per level; the machine is shared, so the CPU other"
        " work took during each level is shown.",
    ]
    body = [*step_table(costs), "", *level_table(levels), "", summary, "", "![knee](../../docs/capacity-knee.png)"]
    RESULTS.write_text("\n".join([*header, "", *machine_lines(version), "", *body, ""]))
    print(RESULTS.read_text())
    replace_doc_section(
        "Knee",
        [
            "`python -m bench knee` → `bench/knee_bench.py`, results in `bench/results/knee.md`, plot"
            " `docs/capacity-knee.png`; how the figures feed the capacity model: docs/capacity.md.",
            "",
            *step_table(costs),
            "",
            *level_table(levels),
            "",
            summary,
            "",
            "![knee](capacity-knee.png)",
        ],
    )


if __name__ == "__main__":
    main()
