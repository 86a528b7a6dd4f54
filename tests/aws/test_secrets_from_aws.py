"""In AWS the database credentials and the JWT signing key come from Secrets Manager (moto), via Parameters."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from ticketing.auth.tokens import signing_ring
from ticketing.config import ConfigurationError, get_settings
from ticketing.db.dsn import connection_parameters
from ticketing.signing_keys import parse_key_ring

JWT_SEED = "jwt-key-from-secrets-manager"
DB_SECRET = {"username": "ticketing_admin", "password": "s3cr3t-from-rds", "engine": "postgres"}


@pytest.fixture
def secrets_manager(aws_settings: Any) -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("secretsmanager")


def deployed_settings(aws_settings: Any, client: Any, **overrides: str | None) -> None:
    """The environment template.yaml gives a deployed function: ARNs and host, no plain secrets."""
    db_arn = client.create_secret(Name="rds!cluster-abc", SecretString=json.dumps(DB_SECRET))["ARN"]
    jwt_arn = client.create_secret(Name="JwtSigningKey-xyz", SecretString=JWT_SEED)["ARN"]
    variables: dict[str, str | None] = {
        "DATABASE_URL": None,
        "JWT_SIGNING_KEY": None,
        "DB_SECRET_ARN": db_arn,
        "JWT_SIGNING_KEY_ARN": jwt_arn,
        "DB_HOST": "ticketing-db.proxy-abc.us-east-1.rds.amazonaws.com",
        "DB_PORT": "5432",
        "DB_NAME": "ticketing",
        "DB_SSL": "true",
        "DB_SSL_CA_FILE": None,
    }
    aws_settings(**{**variables, **overrides})


def test_database_credentials_come_from_the_secret(secrets_manager: Any, aws_settings: Any) -> None:
    deployed_settings(aws_settings, secrets_manager)

    params = connection_parameters(get_settings())

    assert params.user == "ticketing_admin"
    assert params.password == "s3cr3t-from-rds"
    assert params.host == "ticketing-db.proxy-abc.us-east-1.rds.amazonaws.com"
    assert params.port == 5432
    # The RDS-managed secret has no dbname: DB_NAME fills it in
    assert params.database == "ticketing"
    assert params.require_tls is True
    assert "ssl_context" in params.as_pg8000_kwargs()


def test_the_jwt_signing_key_comes_from_its_secret(secrets_manager: Any, aws_settings: Any) -> None:
    deployed_settings(aws_settings, secrets_manager)

    assert signing_ring().signing_kid == parse_key_ring(JWT_SEED).signing_kid


def test_secrets_are_cached_between_invocations(secrets_manager: Any, aws_settings: Any) -> None:
    deployed_settings(aws_settings, secrets_manager)
    assert signing_ring().signing_kid == parse_key_ring(JWT_SEED).signing_kid

    secrets_manager.put_secret_value(SecretId=get_settings().jwt_signing_key_arn, SecretString="rotated")

    # Within SECRETS_MAX_AGE_SECONDS the cached value answers (no Secrets Manager call per request)
    assert signing_ring().signing_kid == parse_key_ring(JWT_SEED).signing_kid


def test_a_missing_rds_ca_bundle_is_a_configuration_error_naming_it(secrets_manager: Any, aws_settings: Any) -> None:
    deployed_settings(aws_settings, secrets_manager, DB_SSL_CA_FILE="/opt/python/no/such/bundle.pem")

    with pytest.raises(ConfigurationError, match=r"DB_SSL_CA_FILE=/opt/python/no/such/bundle\.pem"):
        connection_parameters(get_settings())


def test_a_deployed_function_needs_the_database_host(secrets_manager: Any, aws_settings: Any) -> None:
    deployed_settings(aws_settings, secrets_manager, DB_HOST=None)

    with pytest.raises(ConfigurationError, match="DB_HOST"):
        get_settings()


def test_the_ticket_signing_key_comes_from_its_secret_and_is_cached(secrets_manager: Any, aws_settings: Any) -> None:
    from ticketing.signing_keys import generate_private_key_pem, parse_key_ring
    from ticketing.tickets.codes import key_ring

    pem = generate_private_key_pem()
    arn = secrets_manager.create_secret(Name="TicketSigningKey-xyz", SecretString=pem)["ARN"]
    deployed_settings(aws_settings, secrets_manager, TICKET_SIGNING_KEY=None, TICKET_SIGNING_KEY_ARN=arn)
    assert key_ring().signing_kid == parse_key_ring(pem).signing_kid

    secrets_manager.put_secret_value(SecretId=arn, SecretString=generate_private_key_pem())

    # Within SECRETS_MAX_AGE_SECONDS the cached ring signs (no Secrets Manager call per request)
    assert key_ring().signing_kid == parse_key_ring(pem).signing_kid
