"""Faults of the test-mode provider, for the local fault injector only (`python -m bench chaos`).

Off unless PAYMENT_TEST_FAULTS_FILE names a file (docs/configuration.md). The file is read on every call, so
the injector switches faults on and off while the runner's workers keep running:
`{"until": <epoch seconds>, "latencyMs": 3000, "failure": "timeout" | "unavailable" | null, "rate": 0.5}`.
Until `until`, a share `rate` of calls first waits `latencyMs` (a latency spike), then, with a `failure`,
answers as an unreachable provider does: `timeout` after the client's timeout, `unavailable` as a 5xx at once.
Either way the call does nothing at the provider, and the caller gets ProviderUnavailable.
"""

from __future__ import annotations

import json
import random
import time
from pathlib import Path

from ticketing.config import get_settings
from ticketing.payments.provider import ProviderUnavailable

TIMEOUT = "timeout"
UNAVAILABLE = "unavailable"


def apply_injected_fault() -> None:
    """Waits and/or fails as the faults file says right now; returns at once when no fault is on."""
    settings = get_settings()
    if not settings.payment_test_faults_file:
        return
    try:
        fault = json.loads(Path(settings.payment_test_faults_file).read_text())
    except (OSError, ValueError):
        return  # no fault written yet, or the file is being replaced: no fault
    if time.time() >= float(fault.get("until", 0)) or random.random() >= float(fault.get("rate", 1)):  # noqa: S311
        return
    time.sleep(int(fault.get("latencyMs", 0)) / 1000)
    failure = fault.get("failure")
    if failure == TIMEOUT:
        time.sleep(settings.payment_provider_timeout_seconds)
        raise ProviderUnavailable("injected fault: the test provider did not answer in time")
    if failure == UNAVAILABLE:
        raise ProviderUnavailable("injected fault: the test provider answered 503")
