"""Configuration is validated when a function starts, naming what is wrong."""

from __future__ import annotations

import pytest

from ticketing.config import ConfigurationError, get_settings


def test_defaults_follow_the_spec(fresh_settings: pytest.MonkeyPatch) -> None:
    for name in ("HOLD_TTL_SECONDS", "BOOKING_TTL_SECONDS", "MAX_HOLD_EXTENSIONS", "CANCELLATION_CUTOFF_HOURS"):
        fresh_settings.delenv(name, raising=False)
    fresh_settings.setenv("DATABASE_URL", "postgresql://u@h/db")

    settings = get_settings()

    assert (settings.hold_ttl_seconds, settings.booking_ttl_seconds) == (600, 900)
    assert (settings.max_hold_extensions, settings.cancellation_cutoff_hours) == (2, 24)
    assert settings.payment_provider == "test"


def test_a_non_numeric_ttl_is_refused_by_name(fresh_settings: pytest.MonkeyPatch) -> None:
    fresh_settings.setenv("HOLD_TTL_SECONDS", "ten minutes")

    with pytest.raises(ConfigurationError, match="HOLD_TTL_SECONDS"):
        get_settings()


def test_a_database_must_be_configured(fresh_settings: pytest.MonkeyPatch) -> None:
    fresh_settings.delenv("DATABASE_URL", raising=False)
    fresh_settings.delenv("DB_SECRET_ARN", raising=False)

    with pytest.raises(ConfigurationError, match="DATABASE_URL"):
        get_settings()


def test_cors_origins_are_split_on_commas(fresh_settings: pytest.MonkeyPatch) -> None:
    fresh_settings.setenv("DATABASE_URL", "postgresql://u@h/db")
    fresh_settings.setenv("CORS_ALLOW_ORIGINS", "https://a.example, https://b.example")

    assert get_settings().cors_origins == ["https://a.example", "https://b.example"]


@pytest.mark.parametrize(
    ("stage", "provider", "refused"), [("prod", "test", True), ("prod", "stripe", False), ("dev", "test", False)]
)
def test_a_prod_stage_refuses_the_test_payment_provider(
    fresh_settings: pytest.MonkeyPatch, stage: str, provider: str, refused: bool
) -> None:
    fresh_settings.setenv("DATABASE_URL", "postgresql://u@h/db")
    fresh_settings.setenv("STAGE", stage)
    fresh_settings.setenv("PAYMENT_PROVIDER", provider)

    if refused:
        with pytest.raises(ConfigurationError, match="PAYMENT_PROVIDER=test"):
            get_settings()
    else:
        assert (get_settings().stage, get_settings().payment_provider) == (stage, provider)


def test_an_unknown_payment_provider_is_refused_by_name(fresh_settings: pytest.MonkeyPatch) -> None:
    fresh_settings.setenv("DATABASE_URL", "postgresql://u@h/db")
    fresh_settings.setenv("PAYMENT_PROVIDER", "paypal")

    with pytest.raises(ConfigurationError, match="PAYMENT_PROVIDER"):
        get_settings()
