"""Turns DATABASE_URL, or the Aurora secret plus DB_HOST, into pg8000 connection arguments."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from ticketing.config import ConfigurationError, Settings


@dataclass(frozen=True)
class ConnectionParameters:
    user: str
    database: str
    password: str | None = None
    host: str = "localhost"
    port: int = 5432
    unix_socket: str | None = None
    require_tls: bool = False
    ssl_ca_file: str | None = None

    def as_pg8000_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"user": self.user, "database": self.database, "password": self.password}
        if self.unix_socket:
            kwargs["unix_sock"] = self.unix_socket
        else:
            kwargs["host"] = self.host
            kwargs["port"] = self.port
        if self.require_tls:
            kwargs["ssl_context"] = ssl.create_default_context(cafile=self.ssl_ca_file)
        return kwargs


def parse_database_url(url: str) -> ConnectionParameters:
    """Parses libpq-style URLs, including `?host=/socket/dir` for Unix sockets and `sslmode`."""
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql"):
        raise ValueError("DATABASE_URL must start with postgresql://")
    query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    port = parts.port or int(query.get("port", 5432))
    socket_dir = query.get("host") if query.get("host", "").startswith("/") else None
    return ConnectionParameters(
        user=unquote(parts.username or "postgres"),
        password=unquote(parts.password) if parts.password else None,
        database=unquote(parts.path.lstrip("/")) or "postgres",
        host=parts.hostname or query.get("host") or "localhost",
        port=port,
        unix_socket=f"{socket_dir}/.s.PGSQL.{port}" if socket_dir else None,
        require_tls=query.get("sslmode") in ("require", "verify-ca", "verify-full"),
    )


def connection_parameters(settings: Settings, *, fresh_secret: bool = False) -> ConnectionParameters:
    """From DATABASE_URL, else from DB_SECRET_ARN's secret (cached SECRETS_MAX_AGE_SECONDS; `fresh_secret` reads
    it again, as after a rotation) and DB_HOST (a directory means a Unix socket, as in libpq)."""
    if settings.database_url:
        return parse_database_url(settings.database_url)
    # Imported here: only functions running in AWS pay for Parameters and boto3.
    from ticketing.aws_clients import get_secret

    assert settings.db_secret_arn is not None
    assert settings.db_host is not None
    if settings.db_ssl_ca_file and not Path(settings.db_ssl_ca_file).is_file():
        raise ConfigurationError(
            f"DB_SSL_CA_FILE={settings.db_ssl_ca_file} does not exist: run `make rds-ca-bundle` before `sam build`"
        )
    secret: dict[str, Any] = get_secret(
        settings.db_secret_arn, transform="json", max_age=settings.secrets_max_age_seconds, force_fetch=fresh_secret
    )
    return ConnectionParameters(
        user=str(secret["username"]),
        password=str(secret["password"]),
        database=str(secret.get("dbname") or settings.db_name),
        host=settings.db_host,
        port=int(settings.db_port),
        unix_socket=f"{settings.db_host}/.s.PGSQL.{settings.db_port}" if settings.db_host.startswith("/") else None,
        require_tls=settings.db_ssl,
        ssl_ca_file=settings.db_ssl_ca_file,
    )
