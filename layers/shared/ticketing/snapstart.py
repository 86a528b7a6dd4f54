"""Lambda SnapStart: what an environment restored from a snapshot must not share with its siblings.

With SnapStart, Lambda runs a function's init once per published version, snapshots the environment and
resumes every new execution environment from that snapshot (docs/deploy.md, "Cold starts"). Whatever init
made is then shared by all of them: an open database socket would be the same connection in many
environments, and the `random` module's state would draw the same numbers everywhere. The after-restore
hook drops both, so each restored environment opens its own connection on its first transaction and
draws its own numbers. Cached settings and secrets stay: they are the same for every environment.

`snapshot_restore_py` ships with Lambda's managed Python runtime only; elsewhere (local runner, tests
without it) there is nothing to register and nothing is restored.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from functools import lru_cache


def after_restore() -> None:
    """Runs in a restored environment before its first invocation."""
    # Imported here, not at init: a function without a database (the docs) never loads the driver.
    from ticketing.db.connection import close_connection

    close_connection()
    random.seed()  # from os.urandom: the snapshot froze the generator's state


@lru_cache(maxsize=1)
def register_restore_hook() -> bool:
    """Registers `after_restore` with Lambda's runtime hooks once; False where the runtime has none."""
    try:
        from snapshot_restore_py import register_after_restore
    except ModuleNotFoundError:
        return False
    register_after_restore(after_restore)
    return True


def warm_before_snapshot(warm_up: Callable[[], object]) -> bool:
    """Registers `warm_up` to run once before Lambda takes the snapshot: work that every restored environment
    would otherwise repeat on its first request (a slow import, a key to load). False where the runtime has no
    hooks (then the first request that needs the work does it)."""
    try:
        from snapshot_restore_py import register_before_snapshot
    except ModuleNotFoundError:
        return False
    register_before_snapshot(warm_up)
    return True
