"""Run Python inside aws-sam-cli's virtual environment (`make validate` creates .venv-sam).

aws-sam-cli brings the SAM translator and its own AWS::LanguageExtensions processor, the code that turns
template.yaml into what CloudFormation receives. Their pins (pydantic among them) are not ours, so tests
reach them through a subprocess instead of importing them.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

SAM_PYTHON = Path(__file__).resolve().parents[2] / ".venv-sam" / "bin" / "python"


def run_in_sam_cli(script: str, stdin: str = "") -> str:
    """`script`'s standard output, run by .venv-sam's Python with `stdin` as its input."""
    if not SAM_PYTHON.exists():
        raise FileNotFoundError(f"{SAM_PYTHON} is missing: run `make validate` once")
    finished = subprocess.run(  # noqa: S603 - scripts of this repository, run by .venv-sam's Python
        [str(SAM_PYTHON), "-c", script],
        input=stdin,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
        env={**os.environ, "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "us-east-1")},
    )
    return finished.stdout
