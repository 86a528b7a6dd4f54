"""Cold starts: each HTTP function's import next to a bare Powertools REST resolver, in fresh processes.

Every subject is imported RUNS times, each time in a new Python process, round-robin so that the floor and
the functions share the machine's moments. A child times only the import (and, for the floor, building
`APIGatewayRestResolver(enable_validation=True)`), not the interpreter's start, in wall and CPU time, and
reports which heavy modules it loaded. Children see only the packages the shared layer ships
(layers/shared/requirements.txt and what those require): the dev environment's extras, such as moto's
`cryptography`, which PyJWT would load when present, are hidden as they are absent in Lambda. Tracing is
off as everywhere but Lambda; one extra row imports BookingsFunction as Lambda initialises it with tracing
on (paid once per snapshot under SnapStart). Medians and ratios go to bench/results/coldstart.md and
docs/benchmarks.md.
"""

from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import sys
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from bench.harness import replace_doc_section
from bench.machine import machine_lines

RUNS = 15
GOAL_RATIO = 1.5
REPO_ROOT = Path(__file__).resolve().parents[1]
RESULTS = REPO_ROOT / "bench" / "results" / "coldstart.md"
LAYER_REQUIREMENTS = REPO_ROOT / "layers" / "shared" / "requirements.txt"
# Lambda's managed python3.12 runtime provides these besides the layer.
RUNTIME_PROVIDED = ("snapshot_restore_py", "awslambdaric")
FLOOR = "floor"
TRACED = "BookingsFunction, tracing on"
# The import plus what TicketsFunction defers to its first code (PyJWT, cryptography, the key ring), which is
# also what its SnapStart before-snapshot hook runs: the cold start of a first ticket request without SnapStart.
FIRST_CODE = "TicketsFunction, import + first code"
# Rows beside the goal: not an import as Lambda's init runs it outside SnapStart.
BESIDE_THE_GOAL = (FLOOR, TRACED, FIRST_CODE)
# Modules worth naming when a function loads them: each costs tens of milliseconds or more.
HEAVY_MODULES = ("aws_xray_sdk", "botocore.client", "boto3", "cryptography", "bcrypt", "pg8000", "jwt")

# The child: hide packages the layer does not ship, time the import, answer JSON on stdout.
_CHILD = """
import importlib.abc, importlib.util, json, sys, time

subject, source, hidden = sys.argv[1], sys.argv[2], set(sys.argv[3].split(","))
before_snapshot = sys.argv[4:] == ["before-snapshot"]

class LayerOnly(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in hidden:
            raise ModuleNotFoundError(f"No module named {name!r} (not in the layer)", name=name)
        return None

sys.meta_path.insert(0, LayerOnly())
started, cpu_started = time.perf_counter(), time.process_time()
if source == "-":
    from aws_lambda_powertools.event_handler import APIGatewayRestResolver
    APIGatewayRestResolver(enable_validation=True)
else:
    spec = importlib.util.spec_from_file_location("lambda_app", source)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # as Lambda's importer does
    spec.loader.exec_module(module)
    if before_snapshot:
        import snapshot_restore_py
        for hook, args, kwargs in snapshot_restore_py.get_before_snapshot():
            hook(*args, **kwargs)
elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
loaded = sorted(sys.modules)
print(json.dumps({"ms": elapsed * 1000, "cpu_ms": cpu * 1000, "modules": loaded}))
"""


@dataclass(frozen=True)
class Subject:
    name: str
    source: str  # the handler module's file, "-" for the bare resolver
    environment: dict[str, str]
    # What the function ships beside the layer (its own requirements.txt, as TicketsFunction's cryptography).
    own_requirements: Path | None = None
    # Also run the SnapStart before-snapshot hooks the import registered, inside the timing.
    before_snapshot: bool = False


def _requirement_name(line: str) -> tuple[str, set[str]] | None:
    match = re.match(r"\s*([A-Za-z0-9_.-]+)(?:\[([^\]]*)\])?", line.split("#", 1)[0])
    if match is None:
        return None
    extras = {extra.strip() for extra in (match.group(2) or "").split(",") if extra.strip()}
    return match.group(1), extras


def shipped_distributions(own_requirements: Path | None = None) -> set[str]:
    """The distributions a function ships: the layer's requirements, the function's own, and, recursively,
    theirs (extras included)."""
    from packaging.requirements import Requirement

    files = [LAYER_REQUIREMENTS, *([own_requirements] if own_requirements else [])]
    lines = [line for file in files for line in file.read_text().splitlines()]
    pending = [found for line in lines if (found := _requirement_name(line))]
    shipped: set[str] = set()
    while pending:
        name, extras = pending.pop()
        key = name.lower().replace("_", "-")
        if key in shipped:
            continue
        shipped.add(key)
        for text in metadata.requires(name) or []:
            requirement = Requirement(text)
            marker = requirement.marker
            if marker is None or any(marker.evaluate({"extra": extra}) for extra in extras or {""}):
                pending.append((requirement.name, set(requirement.extras)))
    return shipped


def hidden_modules(own_requirements: Path | None = None) -> list[str]:
    """Top-level modules installed here that the function does not ship (dev-only packages)."""
    shipped = shipped_distributions(own_requirements)
    return sorted(
        module
        for module, distributions in metadata.packages_distributions().items()
        if not module.startswith("_")
        and not any(d.lower().replace("_", "-") in shipped for d in distributions)
        and module not in ("ticketing", *RUNTIME_PROVIDED)
    )


def subjects() -> list[Subject]:
    from devtools.sam_template import load_template

    base = {
        "DATABASE_URL": "postgresql://coldstart@127.0.0.1:9/nothing",  # never reached: imports do no I/O
        "JWT_SIGNING_KEY": "cold-start-benchmark-secret-of-enough-length",
        "POWERTOOLS_METRICS_DISABLED": "true",
    }
    found = [Subject(FLOOR, "-", base)]
    for function in load_template(REPO_ROOT / "template.yaml").functions:
        if function.api_events:
            source = function.code_uri / (function.handler.rpartition(".")[0].replace(".", "/") + ".py")
            requirements = function.code_uri / "requirements.txt"
            found.append(
                Subject(
                    function.logical_id,
                    str(source),
                    {**function.environment, **base},
                    requirements if requirements.exists() else None,
                )
            )
    bookings = next(subject for subject in found if subject.name == "BookingsFunction")
    lambda_like = {"LAMBDA_TASK_ROOT": str(Path(bookings.source).parent), "AWS_LAMBDA_FUNCTION_NAME": "bookings"}
    found.append(Subject(TRACED, bookings.source, {**bookings.environment, **lambda_like}))
    tickets = next(subject for subject in found if subject.name == "TicketsFunction")
    key = {"TICKET_SIGNING_KEY": "cold-start-benchmark-ticket-key-seed"}
    found.append(Subject(FIRST_CODE, tickets.source, {**tickets.environment, **key}, tickets.own_requirements, True))
    return found


def _run_child(subject: Subject, hidden: list[str]) -> dict[str, object]:
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith(("POWERTOOLS_", "LAMBDA_", "AWS_"))
    }
    completed = subprocess.run(
        [
            sys.executable,
            "-c",
            _CHILD,
            subject.name,
            subject.source,
            ",".join(hidden),
            *(["before-snapshot"] if subject.before_snapshot else []),
        ],
        env={**environment, **subject.environment},
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"{subject.name}: import failed\n{completed.stderr}")
    result: dict[str, object] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


@dataclass
class Measured:
    wall_ms: list[float] = field(default_factory=list)
    cpu_ms: list[float] = field(default_factory=list)
    heavy: list[str] = field(default_factory=list)


def measure(runs: int = RUNS) -> tuple[dict[str, Measured], list[str]]:
    """Import times (wall and CPU, ms) per subject over `runs` rounds, and the heavy modules each one loaded."""
    hidden = hidden_modules()
    every = subjects()
    hidden_for = {subject.name: hidden_modules(subject.own_requirements) for subject in every}
    measured = {subject.name: Measured() for subject in every}
    for round_number in range(1, runs + 1):
        for subject in every:
            result = _run_child(subject, hidden_for[subject.name])
            entry = measured[subject.name]
            entry.wall_ms.append(float(str(result["ms"])))
            entry.cpu_ms.append(float(str(result["cpu_ms"])))
            modules = set(result["modules"]) if isinstance(result["modules"], list) else set()
            entry.heavy = [name for name in HEAVY_MODULES if name in modules]
        print(f"round {round_number}/{runs}: floor {measured[FLOOR].wall_ms[-1]:.0f} ms", flush=True)
    return measured, hidden


def _row(name: str, entry: Measured, floor: Measured) -> str:
    wall, cpu = statistics.median(entry.wall_ms), statistics.median(entry.cpu_ms)
    wall_ratio = wall / statistics.median(floor.wall_ms)
    cpu_ratio = cpu / statistics.median(floor.cpu_ms)
    return (
        f"| {name} | {wall:,.0f} ms | {min(entry.wall_ms):,.0f} to {max(entry.wall_ms):,.0f} ms | {wall_ratio:.2f} |"
        f" {cpu:,.0f} ms | {cpu_ratio:.2f} | {', '.join(entry.heavy) or '-'} |"
    )


def _verdict(measured: dict[str, Measured], clock: str) -> str:
    def median(entry: Measured) -> float:
        return statistics.median(entry.wall_ms if clock == "wall" else entry.cpu_ms)

    floor = median(measured[FLOOR])
    ratios = {name: median(entry) / floor for name, entry in measured.items() if name not in BESIDE_THE_GOAL}
    worst = max(ratios, key=lambda name: ratios[name])
    met = "met" if ratios[worst] <= GOAL_RATIO else "NOT met"
    return f"worst HTTP function by {clock} time: {worst} at {ratios[worst]:.2f}x the floor ({met})"


def main() -> None:
    measured, hidden = measure()
    rows = [_row(name, entry, measured[FLOOR]) for name, entry in measured.items()]
    verdict = f"Goal <= {GOAL_RATIO}x: {_verdict(measured, 'wall')}; {_verdict(measured, 'CPU')}."
    table = [
        "| import in a fresh process | wall median | wall range | / floor | CPU median | / floor | heavy modules |",
        "|---|---|---|---|---|---|---|",
        *rows,
    ]
    header = [
        "# Cold start benchmark",
        "",
        f"`make bench` (bench/coldstart_bench.py). Each subject imported {RUNS} times, each in a new Python",
        "process, round-robin with the floor: a bare `APIGatewayRestResolver(enable_validation=True)`. Only the",
        "import is timed (not the interpreter's start), as wall time and as the process's CPU time (steadier on a",
        f"shared machine). The {len(hidden)} installed packages outside the layer (dev tools; `cryptography`,",
        "which PyJWT would load, among them) are hidden from the children. Tracing is off as outside Lambda,",
        f'except in the "{TRACED}" row (Lambda-like environment: the X-Ray SDK loads at init). The "{FIRST_CODE}"',
        "row adds what TicketsFunction defers from its import to its first ticket code (PyJWT, `cryptography`, the",
        "key ring): outside SnapStart a first ticket request pays it; under SnapStart the before-snapshot hook",
        "does, once per version. Both rows are beside the goal.",
        "",
        verdict,
    ]
    RESULTS.write_text("\n".join([*header, "", *machine_lines("not used"), "", *table, ""]))
    print(RESULTS.read_text())
    replace_doc_section(
        "Cold starts",
        [
            "`make bench` → `bench/coldstart_bench.py`, results in `bench/results/coldstart.md` (medians of "
            f"{RUNS} fresh processes per function, side by side with the floor, same machine as above).",
            "",
            *table,
            "",
            verdict,
            "With SnapStart (docs/deploy.md) a restored environment skips even this: the import ran before the "
            "snapshot.",
        ],
    )


if __name__ == "__main__":
    main()
