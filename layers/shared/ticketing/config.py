"""Runtime configuration, read from the environment once per execution environment and validated."""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError


class ConfigurationError(RuntimeError):
    """The environment does not describe a runnable configuration."""


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    database_url: str | None = Field(default=None, alias="DATABASE_URL")
    db_secret_arn: str | None = Field(default=None, alias="DB_SECRET_ARN")
    db_host: str | None = Field(default=None, alias="DB_HOST")
    db_port: int = Field(default=5432, alias="DB_PORT")
    db_name: str = Field(default="ticketing", alias="DB_NAME")
    db_ssl: bool = Field(default=True, alias="DB_SSL")
    # The RDS CA bundle for direct Aurora connections; None trusts the system CAs (enough for RDS Proxy).
    db_ssl_ca_file: str | None = Field(default=None, alias="DB_SSL_CA_FILE")
    # The migration function only (docs/security.md, "Database roles"): the secret of the application role,
    # whose password it gives the role after migrating; every other function connects with that secret.
    app_db_secret_arn: str | None = Field(default=None, alias="APP_DB_SECRET_ARN")
    # Below the shortest function timeout (15 s) with room for the answer: tests/contract/test_time_bounds.py.
    db_statement_timeout_ms: int = Field(default=10_000, ge=0, alias="DB_STATEMENT_TIMEOUT_MS")
    # Access tokens (docs/security.md, "Tokens"): the Ed25519 key ring that signs them, held by the auth function
    # only (PEM, same format as the ticket key ring), or the secret holding it; and the public keys every other
    # function verifies with (PEM public keys; unset, the signing ring's own keys verify: local runs and tests).
    jwt_signing_key: str | None = Field(default=None, alias="JWT_SIGNING_KEY")
    jwt_signing_key_arn: str | None = Field(default=None, alias="JWT_SIGNING_KEY_ARN")
    jwt_public_keys: str | None = Field(default=None, alias="JWT_PUBLIC_KEYS")
    # Ed25519 key ring that signs ticket codes (PEM; see docs/tickets.md), or the secret holding it.
    ticket_signing_key: str | None = Field(default=None, alias="TICKET_SIGNING_KEY")
    ticket_signing_key_arn: str | None = Field(default=None, alias="TICKET_SIGNING_KEY_ARN")
    # The waiting room's own Ed25519 key ring for admission tokens (same format), or the secret holding it.
    admission_signing_key: str | None = Field(default=None, alias="ADMISSION_SIGNING_KEY")
    admission_signing_key_arn: str | None = Field(default=None, alias="ADMISSION_SIGNING_KEY_ARN")
    hold_ttl_seconds: int = Field(default=600, ge=1, alias="HOLD_TTL_SECONDS")
    booking_ttl_seconds: int = Field(default=900, ge=1, alias="BOOKING_TTL_SECONDS")
    max_hold_extensions: int = Field(default=2, ge=0, alias="MAX_HOLD_EXTENSIONS")
    cancellation_cutoff_hours: int = Field(default=24, ge=0, alias="CANCELLATION_CUTOFF_HOURS")
    # The deployment stage (`dev`, `prod`; `local` on a developer's machine). A `prod` stage refuses the test
    # payment provider, whose tokens are documented publicly.
    stage: str = Field(default="local", alias="STAGE")
    # Payments (docs/payments.md): the provider, Stripe's keys (plain locally, Secrets Manager in AWS), the API
    # base (localstripe locally), how long a provider call may take, and when an open payment is reconciled.
    payment_provider: Literal["test", "stripe"] = Field(default="test", alias="PAYMENT_PROVIDER")
    stripe_secret_key: str | None = Field(default=None, alias="STRIPE_SECRET_KEY")
    stripe_secret_key_arn: str | None = Field(default=None, alias="STRIPE_SECRET_KEY_ARN")
    stripe_webhook_secret: str | None = Field(default=None, alias="STRIPE_WEBHOOK_SECRET")
    stripe_webhook_secret_arn: str | None = Field(default=None, alias="STRIPE_WEBHOOK_SECRET_ARN")
    stripe_api_base: str | None = Field(default=None, alias="STRIPE_API_BASE")
    payment_provider_timeout_seconds: float = Field(default=8.0, gt=0, le=60, alias="PAYMENT_PROVIDER_TIMEOUT_SECONDS")
    payment_reconcile_after_seconds: int = Field(default=120, ge=1, alias="PAYMENT_RECONCILE_AFTER_SECONDS")
    # Local benchmarks only: how long each call to the test provider takes, as a real provider's would.
    payment_test_latency_ms: int = Field(default=0, ge=0, le=10_000, alias="PAYMENT_TEST_LATENCY_MS")
    # Local fault injection only (`python -m bench chaos`): a JSON file the test provider reads on every call.
    payment_test_faults_file: str | None = Field(default=None, alias="PAYMENT_TEST_FAULTS_FILE")
    cors_allow_origins: str = Field(default="*", alias="CORS_ALLOW_ORIGINS")
    # Rate limits (docs/security.md, "Rate limits"), kept in the waiting room's table; 0 turns one off.
    rate_limit_account_per_minute: int = Field(default=60, ge=0, alias="RATE_LIMIT_ACCOUNT_PER_MINUTE")
    rate_limit_address_per_minute: int = Field(default=300, ge=0, alias="RATE_LIMIT_ADDRESS_PER_MINUTE")
    login_failures_before_delay: int = Field(default=5, ge=0, alias="LOGIN_FAILURES_BEFORE_DELAY")
    # A header the stack's own proxy sets to the caller's address (CloudFront-Viewer-Address behind the CDN);
    # unset, the address is the one API Gateway saw (requestContext.identity.sourceIp).
    client_address_header: str | None = Field(default=None, alias="CLIENT_ADDRESS_HEADER")
    access_token_ttl_seconds: int = Field(default=15 * 60, ge=1, alias="ACCESS_TOKEN_TTL_SECONDS")
    refresh_token_ttl_seconds: int = Field(default=7 * 24 * 3600, ge=1, alias="REFRESH_TOKEN_TTL_SECONDS")
    bcrypt_rounds: int = Field(default=12, ge=4, le=31, alias="BCRYPT_ROUNDS")
    secrets_max_age_seconds: int = Field(default=300, ge=0, alias="SECRETS_MAX_AGE_SECONDS")
    # Unset (local runs, tests): domain events stay in the outbox and nothing is published.
    event_bus_name: str | None = Field(default=None, alias="EVENT_BUS_NAME")
    email_from: str | None = Field(default=None, alias="EMAIL_FROM")
    # Body budget of one Lambda response as it travels (escaped or base64); Lambda's limit is 6 MB.
    max_response_bytes: int = Field(default=5_500_000, ge=1024, le=6_000_000, alias="MAX_RESPONSE_BYTES")
    # The refund workers (docs/refunds.md): the function woken after an event cancellation commits (unset:
    # none is woken, the scheduled sweep picks the refunds up) and how many refunds each run sends at once.
    refunds_function_name: str | None = Field(default=None, alias="REFUNDS_FUNCTION_NAME")
    refund_workers: int = Field(default=8, ge=1, le=64, alias="REFUND_WORKERS")
    # The outbox publisher, woken after an event cancellation commits to write and publish its per-booking
    # events at once (docs/refunds.md); unset, none is woken and its scheduled sweep does it.
    outbox_publisher_function_name: str | None = Field(default=None, alias="OUTBOX_PUBLISHER_FUNCTION_NAME")

    # The waiting room (docs/waiting-room.md). Its DynamoDB table (unset: no event can have a working room, and
    # the buying calls of an event with a room fail closed); locally and in tests the endpoint is moto's server,
    # through boto3's own AWS_ENDPOINT_URL_DYNAMODB.
    waiting_room_table: str | None = Field(default=None, alias="WAITING_ROOM_TABLE")
    waiting_room_tick_seconds: float = Field(default=10, gt=0, le=60, alias="WAITING_ROOM_TICK_SECONDS")
    # Ticks one controller invocation runs (a one-minute schedule in AWS runs 6 of 10 s; locally 1 per firing).
    waiting_room_ticks_per_invocation: int = Field(default=1, ge=1, le=60, alias="WAITING_ROOM_TICKS_PER_INVOCATION")
    # The default ceiling of admitPerMinute, for events that set none: this setting when given, else what the
    # capacity model says the deployed writer can serve (ticketing.capacity, docs/capacity.md) for its instance
    # class (and, for Aurora Serverless v2, its maximum ACUs), both set by the template.
    waiting_room_default_admit_per_minute: int | None = Field(
        default=None, ge=1, le=1_000_000, alias="WAITING_ROOM_DEFAULT_ADMIT_PER_MINUTE"
    )
    database_instance_class: str = Field(default="db.serverless", alias="DATABASE_INSTANCE_CLASS")
    database_max_acu: float = Field(default=16, gt=0, le=256, alias="DATABASE_MAX_ACU")
    # The buying path's p99 (hold-seats, hold-best, create) above which the waiting room halves its rate.
    waiting_room_latency_target_ms: float = Field(default=1000, gt=0, le=60_000, alias="WAITING_ROOM_LATENCY_TARGET_MS")

    @property
    def cors_origins(self) -> list[str]:
        return [origin.strip() for origin in self.cors_allow_origins.split(",") if origin.strip()]


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Validated settings; raises ConfigurationError naming every bad variable."""
    try:
        settings = Settings.model_validate(dict(os.environ))
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
        raise ConfigurationError(f"invalid configuration: {problems}") from error
    if settings.database_url is None and (settings.db_secret_arn is None or settings.db_host is None):
        raise ConfigurationError("set DATABASE_URL, or DB_SECRET_ARN together with DB_HOST")
    if settings.stage == "prod" and settings.payment_provider == "test":
        raise ConfigurationError("PAYMENT_PROVIDER=test takes no money: a prod stage needs a real provider")
    return settings
