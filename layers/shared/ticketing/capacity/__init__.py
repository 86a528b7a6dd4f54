"""Capacity: how fast an on-sale may admit buyers, and what it needs in AWS (docs/capacity.md).

`admit_per_minute(instance_class)` is the waiting room's default ceiling (`admitPerMinute`) for the Aurora
instance class the stack runs on (the template's `DatabaseInstanceClass`). Pure Python, no I/O: cheap to import
from any function.
"""

from __future__ import annotations

from ticketing.capacity.model import OnSale, plan

# The buyer profile the default ceiling is computed for; the buyer and seat counts do not change the rate.
_CEILING_PROFILE = OnSale(name="default ceiling", buyers=200_000, seats=20_000)


def admit_per_minute(instance_class: str, serverless_max_acu: float = 16) -> int:
    """The safe admission rate (buyers per minute) for a writer of `instance_class`, e.g. "db.r6g.2xlarge" or
    "db.serverless" (at `serverless_max_acu`): the lowest of the database's CPU and connections, Lambda's
    ramp and account concurrency, and API Gateway's throttle (ticketing.capacity.model)."""
    from dataclasses import replace

    profile = replace(_CEILING_PROFILE, instance_class=instance_class, serverless_max_acu=serverless_max_acu)
    return plan(profile).admit_per_minute
