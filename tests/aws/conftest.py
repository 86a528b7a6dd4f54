"""AWS-facing tests: moto stands in for AWS APIs; settings and cached clients are reset around each test."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable, Iterator

import pytest
from moto import mock_aws

AWS_REGION = "us-east-1"


def _clear_cached_configuration() -> None:
    from aws_lambda_powertools.utilities import parameters

    from ticketing.aws_clients import forget_clients
    from ticketing.config import get_settings

    get_settings.cache_clear()
    forget_clients()
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


@pytest.fixture
def moto_lambda(aws_settings: Callable[..., None]) -> Iterator[Callable[[str], None]]:
    """moto's Lambda, with no function until the test deploys one by name (invoking it runs nothing: no Docker
    here)."""
    with mock_aws(config={"lambda": {"use_docker": False}}):
        import boto3

        aws_settings()
        role = boto3.client("iam").create_role(
            RoleName="woken", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []})
        )
        archive = io.BytesIO()
        with zipfile.ZipFile(archive, "w") as zipped:
            zipped.writestr("app.py", "def lambda_handler(event, context):\n    return {}\n")

        def deploy(function_name: str) -> None:
            boto3.client("lambda").create_function(
                FunctionName=function_name,
                Runtime="python3.12",
                Role=role["Role"]["Arn"],
                Handler="app.lambda_handler",
                Code={"ZipFile": archive.getvalue()},
            )

        yield deploy


@pytest.fixture
def lambda_without_functions(aws_settings: Callable[..., None]) -> Iterator[None]:
    """moto's full Lambda backend, which knows which functions exist, with none deployed: every invoke fails."""
    with mock_aws():
        aws_settings()
        yield
