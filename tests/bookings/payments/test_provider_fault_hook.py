"""The test provider's fault hook (PAYMENT_TEST_FAULTS_FILE), which `python -m bench chaos` switches while the
runner runs: off without the file or after its `until`; on, a call fails as an unreachable provider does and
the provider's books do not change."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from .test_checkout import a_pending_booking


@pytest.fixture
def faults_file(tmp_path: Path, fresh_settings: pytest.MonkeyPatch) -> Path:
    """The hook switched on with no fault written yet: the provider works as usual."""
    path = tmp_path / "provider-faults.json"
    fresh_settings.setenv("PAYMENT_TEST_FAULTS_FILE", str(path))
    return path


def test_a_5xx_window_answers_503_and_charges_nothing(
    shop: Any, accounts: Any, catalog: Any, db: Any, faults_file: Path
) -> None:
    _, buyer, booking = a_pending_booking(shop, accounts, catalog)
    faults_file.write_text(json.dumps({"until": time.time() + 3600, "failure": "unavailable", "rate": 1}))

    confirmed = shop.confirm(buyer, booking)

    assert (confirmed.status, confirmed.error_code) == (503, "PAYMENT_PROVIDER_UNAVAILABLE")
    assert db.value("SELECT count(*) FROM test_provider_intents WHERE status = 'succeeded'") == 0
    assert db.value("SELECT status FROM bookings WHERE id = :id", id=booking["id"]) == "PENDING"


def test_a_window_that_has_ended_changes_nothing(
    shop: Any, accounts: Any, catalog: Any, db: Any, faults_file: Path
) -> None:
    _, buyer, booking = a_pending_booking(shop, accounts, catalog)
    faults_file.write_text(json.dumps({"until": time.time() - 1, "failure": "unavailable", "rate": 1}))

    confirmed = shop.confirm(buyer, booking)

    assert confirmed.status == 200, confirmed.body
    assert db.value("SELECT status FROM bookings WHERE id = :id", id=booking["id"]) == "CONFIRMED"
