"""The JWT signing key: JWT_SECRET, or the Secrets Manager secret JWT_SECRET_ARN (cached), or a local one."""

from __future__ import annotations

import secrets
from functools import lru_cache

from ticketing.config import get_settings
from ticketing.observability import logger


@lru_cache(maxsize=1)
def _generated_local_key() -> str:
    logger.warning("JWT_SECRET is not set: signing tokens with a key generated for this process only")
    return secrets.token_urlsafe(48)


def jwt_signing_key() -> str:
    settings = get_settings()
    if settings.jwt_secret:
        return settings.jwt_secret
    if settings.jwt_secret_arn:
        # Imported here so functions that never sign or verify tokens do not load boto3.
        from ticketing.aws_clients import get_secret

        return str(get_secret(settings.jwt_secret_arn, max_age=settings.secrets_max_age_seconds))
    return _generated_local_key()
