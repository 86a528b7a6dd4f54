"""AWS-facing tests: moto stands in for AWS APIs; settings and cached clients are reset around each test."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

AWS_REGION = "us-east-1"


def _clear_cached_configuration() -> None:
    from aws_lambda_powertools.utilities import parameters

    from ticketing.config import get_settings
    from ticketing.domain_events import publisher
    from ticketing.notifications import email

    get_settings.cache_clear()
    publisher._events_client.cache_clear()
    email._ses_client.cache_clear()
    parameters.clear_caches()
    # Powertools keeps its providers (and their boto3 clients) between calls; drop them so each test's
    # client is created inside that test's moto mock.
    parameters.base.DEFAULT_PROVIDERS.clear()


@pytest.fixture
def aws_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., None]]:
    """Sets environment variables for one test and makes the layer read them afresh; restores after."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", AWS_REGION)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")

    def apply(**variables: str | None) -> None:
        for name, value in variables.items():
            if value is None:
                monkeypatch.delenv(name, raising=False)
            else:
                monkeypatch.setenv(name, value)
        _clear_cached_configuration()

    _clear_cached_configuration()
    yield apply
    monkeypatch.undo()
    _clear_cached_configuration()
