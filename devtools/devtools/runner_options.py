"""The local runner's options from the environment (docs/configuration.md, docs/local-runner.md)."""

from __future__ import annotations

import os

DEFAULT_CONCURRENCY = 8


def concurrency_from_environment() -> int:
    value = os.environ.get("LOCAL_CONCURRENCY", str(DEFAULT_CONCURRENCY))
    try:
        concurrency = int(value)
    except ValueError:
        raise ValueError(f"LOCAL_CONCURRENCY must be a positive integer, got {value!r}") from None
    if concurrency < 1:
        raise ValueError(f"LOCAL_CONCURRENCY must be a positive integer, got {value!r}")
    return concurrency


def niceness_from_environment() -> dict[str, int]:
    """LOCAL_NICENESS, "LogicalId=10,Other=5": those functions' environments run at that CPU priority."""
    niceness: dict[str, int] = {}
    for entry in filter(None, os.environ.get("LOCAL_NICENESS", "").split(",")):
        logical_id, _, value = entry.partition("=")
        if not value.strip().isdigit() or not 0 <= int(value) <= 19:
            raise ValueError(f"LOCAL_NICENESS entries are LogicalId=0..19, got {entry!r}")
        niceness[logical_id.strip()] = int(value)
    return niceness
