"""Every boto3 client the code uses, each bounded in time below the shortest function timeout (docs/security.md,
"Bounded AWS calls").

boto3's defaults (60 s to connect, 60 s to read, legacy retries) outlast the functions' 15 s, so a slow AWS API
would turn into a 504 after the work has committed. Here each service has a `CallBudget`: explicit connect and
read timeouts and the standard retry mode with a fixed number of attempts. Its `worst_case_seconds` (every
attempt timing out, plus the longest backoff between them) is what tests/unit/test_aws_clients.py holds below
the shortest `Timeout` in template.yaml. Clients are created lazily, once per execution environment and
service, so a function that never calls a service never loads boto3 for it.

Secrets go through the same budget: `get_secret` is Powertools Parameters (cached for `max_age`) on top of the
bounded Secrets Manager client.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

from ticketing.config import ConfigurationError

# botocore's standard mode waits up to min(2 ** i, 20) seconds (throttling scale) before retry i + 1.
_MAX_BACKOFF_SECONDS = 20.0


@dataclass(frozen=True)
class CallBudget:
    connect_timeout: float
    read_timeout: float
    max_attempts: int  # total attempts, the first included (botocore's `total_max_attempts`; its `max_attempts`
    # counts retries only)

    @property
    def worst_case_seconds(self) -> float:
        """Every attempt connects and reads until its timeout, with the longest backoff between attempts."""
        backoff = sum(min(2.0**retry, _MAX_BACKOFF_SECONDS) for retry in range(self.max_attempts - 1))
        return self.max_attempts * (self.connect_timeout + self.read_timeout) + backoff


# Per service. The request path's calls (DynamoDB: rate limits and the waiting room) get the tightest budget:
# one retry, because a limit check that fails answers "allowed" (docs/security.md) and a room that cannot
# answer says so (503); what runs after a commit (PutEvents, SES, Lambda's async invoke) has a sweep behind it.
BUDGETS: dict[str, CallBudget] = {
    "dynamodb": CallBudget(connect_timeout=0.5, read_timeout=1.0, max_attempts=2),
    "events": CallBudget(connect_timeout=1.0, read_timeout=2.0, max_attempts=3),
    "lambda": CallBudget(connect_timeout=1.0, read_timeout=2.0, max_attempts=2),
    "secretsmanager": CallBudget(connect_timeout=1.0, read_timeout=2.0, max_attempts=3),
    "ses": CallBudget(connect_timeout=1.0, read_timeout=3.0, max_attempts=2),
}


def budget(service: str) -> CallBudget:
    try:
        return BUDGETS[service]
    except KeyError:
        raise ConfigurationError(f"no call budget for AWS service {service!r}: add one to BUDGETS") from None


@cache
def aws_client(service: str, limits: CallBudget | None = None) -> Any:
    """The bounded boto3 client of `service` for this execution environment (its endpoint from the environment,
    e.g. AWS_ENDPOINT_URL_DYNAMODB locally), with the service's budget, or `limits`: a function whose timeout is
    not the API's (the pre-traffic hook) sizes its own and holds it below its own Timeout."""
    import boto3
    from botocore.config import Config

    limits = limits or budget(service)
    config = Config(
        connect_timeout=limits.connect_timeout,
        read_timeout=limits.read_timeout,
        retries={"total_max_attempts": limits.max_attempts, "mode": "standard"},
    )
    return boto3.client(service, config=config)  # type: ignore[call-overload]


@lru_cache(maxsize=1)
def _secrets_provider() -> Any:
    from aws_lambda_powertools.utilities.parameters import SecretsProvider

    return SecretsProvider(boto3_client=aws_client("secretsmanager"))


def get_secret(secret_id: str, *, max_age: int, transform: str | None = None, force_fetch: bool = False) -> Any:
    """The secret's value through Powertools Parameters (cached `max_age` seconds; `force_fetch` reads it again,
    as after a rotation) and the bounded client; `transform="json"` parses it."""
    return _secrets_provider().get(secret_id, max_age=max_age, transform=transform, force_fetch=force_fetch)


def forget_clients() -> None:
    """Drop the clients, so the next call builds them from the environment as it is now (local runs, tests)."""
    aws_client.cache_clear()
    _secrets_provider.cache_clear()
