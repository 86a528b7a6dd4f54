"""A rotated database secret causes no outage: a login refused with the cached secret (28P01) reads the secret
again once and logs in (docs/security.md, "Secret rotation"). Against the real server: the role's password is
changed and the secret updated (moto), while the function still holds the old one in its cache."""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterator
from typing import Any

import boto3
import pg8000.native
import pytest
from moto import mock_aws

from ticketing.db import transaction
from ticketing.db.connection import close_connection
from ticketing.db.dsn import parse_database_url
from ticketing.db.errors import is_login_refused
from ticketing.db.migrate import APP_ROLE, enable_app_login
from ticketing.errors import ServiceUnavailable


@pytest.fixture
def deployed(db: Any, database_url: str, fresh_settings: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """This process configured as a deployed function: the application role's secret (moto) and the host. The
    role's password is put back afterwards, as the rest of the suite logs in with it."""
    app = parse_database_url(os.environ["DATABASE_URL"])
    assert app.user == APP_ROLE
    assert app.password
    with mock_aws():
        client = boto3.client("secretsmanager", region_name="us-east-1")
        arn = client.create_secret(
            Name="ticketing-app-db", SecretString=json.dumps({"username": APP_ROLE, "password": app.password})
        )["ARN"]
        socket_dir = app.unix_socket.rsplit("/", 1)[0] if app.unix_socket else app.host
        for name, value in {
            "DB_SECRET_ARN": arn,
            "DB_HOST": socket_dir,
            "DB_PORT": str(app.port),
            "DB_SSL": "false",
            "DB_NAME": app.database,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
        }.items():
            fresh_settings.setenv(name, value)
        fresh_settings.delenv("DATABASE_URL")
        close_connection()
        try:
            yield {"client": client, "arn": arn, "old_password": app.password}
        finally:
            close_connection()
            enable_app_login(app.password, parse_database_url(database_url))


def _rotate(deployed: dict[str, Any], database_url: str, *, update_secret: bool = True) -> None:
    """What Secrets Manager's rotation does: a new password on the role, then in the secret."""
    new_password = secrets.token_urlsafe(24)
    enable_app_login(new_password, parse_database_url(database_url))
    if update_secret:
        deployed["client"].put_secret_value(
            SecretId=deployed["arn"], SecretString=json.dumps({"username": APP_ROLE, "password": new_password})
        )


def _current_user() -> str:
    with transaction() as tx:
        return str(tx.value("SELECT current_user"))


def test_a_login_refused_after_a_rotation_reads_the_secret_again_and_succeeds(
    deployed: dict[str, Any], database_url: str
) -> None:
    assert _current_user() == APP_ROLE  # the secret is now cached with the old password
    _rotate(deployed, database_url)
    close_connection()  # a new connection, as after a restart, a failover or in another environment
    with pytest.raises((pg8000.native.DatabaseError, pg8000.native.InterfaceError)) as refused:
        pg8000.native.Connection(user=APP_ROLE, password=deployed["old_password"], **_socket(database_url))
    assert is_login_refused(refused.value)  # the cached password really is refused now

    assert _current_user() == APP_ROLE


def test_a_password_the_fresh_secret_does_not_fix_fails_after_one_retry(
    deployed: dict[str, Any], database_url: str
) -> None:
    assert _current_user() == APP_ROLE
    _rotate(deployed, database_url, update_secret=False)
    close_connection()

    with pytest.raises(ServiceUnavailable):
        _current_user()


def _socket(database_url: str) -> dict[str, Any]:
    owner = parse_database_url(database_url)
    kwargs = owner.as_pg8000_kwargs()
    return {key: kwargs[key] for key in ("unix_sock", "host", "port", "database") if key in kwargs}
