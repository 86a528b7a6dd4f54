"""Versioned SQL migrations: applied in name order, each in its own transaction, recorded, safe to re-run.

`make db-migrate`, the local runner, the test session and the deploy-time custom resource all call
`apply_migrations`, so the schema is built one way everywhere.
"""

from __future__ import annotations

import argparse
import re
from importlib import resources
from typing import Any

import pg8000.native

from ticketing.config import ConfigurationError, get_settings
from ticketing.db.dsn import ConnectionParameters, connection_parameters

# The role migration 0024 creates (docs/security.md, "Database roles").
APP_ROLE = "ticketing_app"
# ALTER ROLE takes no bound parameters: the password is spelled into the statement, so only these characters
# (what Secrets Manager generates without punctuation, and what token_urlsafe makes) are accepted.
_APP_PASSWORD = re.compile(r"[A-Za-z0-9_-]{20,256}")

# Any constant works; it keeps two concurrent deploys (or test workers) from migrating at once.
_MIGRATION_LOCK_KEY = 72_410_001


def migration_files() -> list[tuple[str, str]]:
    """(version, sql) for every migration shipped in the package, in order."""
    folder = resources.files("ticketing.db") / "migrations"
    files = sorted((entry for entry in folder.iterdir() if entry.name.endswith(".sql")), key=lambda entry: entry.name)
    return [(entry.name.removesuffix(".sql"), entry.read_text(encoding="utf-8")) for entry in files]


def apply_migrations(params: ConnectionParameters | None = None, *, statement_timeout_ms: int = 0) -> list[str]:
    """Applies the migrations not yet recorded and answers their versions.

    `statement_timeout_ms` (0 = none) bounds every statement, the wait for the migration lock included,
    so a caller with a deadline (the deploy-time custom resource) gets an error rather than a hang.
    """
    params = params or connection_parameters(get_settings())
    connection = pg8000.native.Connection(
        **params.as_pg8000_kwargs(),
        application_name="ticketing-migrate",
        startup_params={"statement_timeout": str(statement_timeout_ms)},
    )
    try:
        connection.run("SELECT pg_advisory_lock(:key)", key=_MIGRATION_LOCK_KEY)
        connection.run(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        applied = {row[0] for row in connection.run("SELECT version FROM schema_migrations")}
        newly_applied: list[str] = []
        for version, sql in migration_files():
            if version in applied:
                continue
            connection.run("BEGIN")
            try:
                connection.run(sql)
                connection.run("INSERT INTO schema_migrations (version) VALUES (:version)", version=version)
                connection.run("COMMIT")
            except Exception:
                connection.run("ROLLBACK")
                raise
            newly_applied.append(version)
        return newly_applied
    finally:
        try:
            connection.run("SELECT pg_advisory_unlock(:key)", key=_MIGRATION_LOCK_KEY)
        finally:
            connection.close()


def enable_app_login(password: str, params: ConnectionParameters | None = None) -> None:
    """Lets the application role log in with `password` (set again on every call: that is how a rotated
    application secret reaches the database). Runs as the migrating user."""
    if not _APP_PASSWORD.fullmatch(password):
        raise ConfigurationError("The application role's password must be 20-256 characters of [A-Za-z0-9_-].")
    params = params or connection_parameters(get_settings())
    connection = pg8000.native.Connection(**params.as_pg8000_kwargs(), application_name="ticketing-migrate")
    try:
        connection.run(f"ALTER ROLE {APP_ROLE} WITH LOGIN PASSWORD '{password}'")
    finally:
        connection.close()


def enable_app_login_from_secret(secret_arn: str) -> None:
    """enable_app_login with the password of the application role's secret (AWS: APP_DB_SECRET_ARN)."""
    # Imported here: only the migration function in AWS reads this secret.
    from ticketing.aws_clients import get_secret

    secret: dict[str, Any] = get_secret(secret_arn, transform="json", max_age=0, force_fetch=True)
    if secret.get("username") != APP_ROLE:
        raise ConfigurationError(f"APP_DB_SECRET_ARN's secret must name the user {APP_ROLE}")
    enable_app_login(str(secret["password"]))


def main() -> None:
    argparse.ArgumentParser(description="Apply the database migrations to DATABASE_URL.").parse_args()
    applied = apply_migrations()
    print(f"applied {len(applied)} migration(s): {', '.join(applied) or 'schema already up to date'}")


if __name__ == "__main__":
    main()
