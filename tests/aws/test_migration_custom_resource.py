"""The deploy-time migration custom resource always answers CloudFormation, correctly and in time.

A local HTTP server on 127.0.0.1 stands in for the pre-signed S3 ResponseURL and records each PUT.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pg8000.native
import pytest

from devtools.embedded_db import scratch_database
from devtools.lambda_context import LambdaContext
from devtools.sam_template import load_template
from devtools.server import invoke
from ticketing.db.dsn import parse_database_url
from ticketing.db.migrate import migration_files
from ticketing.deploy import custom_resource

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"
MIGRATION_FUNCTION = next(f for f in load_template(TEMPLATE).functions if f.logical_id == "MigrationFunction")
STACK_ID = "arn:aws:cloudformation:us-east-1:123456789012:stack/ticketing-test/5b5b3a40-1b2c-11ef-9a3e-0a1b2c3d4e5f"


class CapturedPuts:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.arrived = threading.Event()

    def documents(self) -> list[dict[str, Any]]:
        return [json.loads(request["body"]) for request in self.requests]


@pytest.fixture
def response_url() -> Iterator[tuple[str, CapturedPuts]]:
    captured = CapturedPuts()

    class Handler(BaseHTTPRequestHandler):
        def do_PUT(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            captured.requests.append(
                {"path": self.path, "headers": dict(self.headers), "body": self.rfile.read(length).decode("utf-8")}
            )
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()
            captured.arrived.set()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    host, port = server.server_address[:2]
    yield f"http://{host}:{port}/bucket/response-key?X-Amz-Signature=abc", captured
    server.shutdown()
    server.server_close()


def cfn_event(request_type: str, url: str, **extra: Any) -> dict[str, Any]:
    return {
        "RequestType": request_type,
        "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:migrate",
        "ResponseURL": url,
        "StackId": STACK_ID,
        "RequestId": f"request-{request_type.lower()}",
        "ResourceType": "AWS::CloudFormation::CustomResource",
        "LogicalResourceId": "DatabaseMigration",
        "ResourceProperties": {"SharedLayerVersion": "arn:aws:lambda:us-east-1:123456789012:layer:shared:7"},
        **extra,
    }


def recorded_versions(db: Any) -> list[str]:
    return [row["version"] for row in db.rows("SELECT version FROM schema_migrations ORDER BY version")]


def test_create_migrates_an_empty_database_and_answers_success(
    database_url: str, response_url: tuple[str, CapturedPuts], aws_settings: Any
) -> None:
    # Given a brand-new, empty database (a first deploy)
    url, captured = response_url
    with scratch_database(database_url, "ticketing_cfn_create") as empty_database_url:
        aws_settings(DATABASE_URL=empty_database_url)

        # When CloudFormation creates the resource
        result = invoke(MIGRATION_FUNCTION, cfn_event("Create", url), MIGRATION_FUNCTION.timeout)

        # Then every shipped migration is applied and recorded
        shipped = [version for version, _ in migration_files()]
        connection = pg8000.native.Connection(**parse_database_url(empty_database_url).as_pg8000_kwargs())
        try:
            recorded = [row[0] for row in connection.run("SELECT version FROM schema_migrations ORDER BY version")]
        finally:
            connection.close()
    assert recorded == shipped
    # and exactly one SUCCESS document went to the ResponseURL, carrying the request's identity
    assert result == {"Status": "SUCCESS"}
    [request] = captured.requests
    assert request["path"] == "/bucket/response-key?X-Amz-Signature=abc"
    assert request["headers"].get("Content-Type", "") == ""
    document = json.loads(request["body"])
    assert document["Status"] == "SUCCESS"
    assert document["PhysicalResourceId"] == "ticketing-schema-migrations"
    assert document["StackId"] == STACK_ID
    assert document["RequestId"] == "request-create"
    assert document["LogicalResourceId"] == "DatabaseMigration"
    assert document["Data"] == {"Applied": ",".join(shipped), "SchemaVersion": shipped[-1]}


def test_update_is_idempotent_and_keeps_the_physical_id(
    db: Any, database_url: str, response_url: tuple[str, CapturedPuts], aws_settings: Any
) -> None:
    url, captured = response_url
    before = recorded_versions(db)
    aws_settings(DATABASE_URL=database_url)  # the migration function connects as the master user

    invoke(
        MIGRATION_FUNCTION,
        cfn_event("Update", url, PhysicalResourceId="ticketing-schema-migrations", OldResourceProperties={}),
        MIGRATION_FUNCTION.timeout,
    )

    [document] = captured.documents()
    assert document["Status"] == "SUCCESS"
    assert document["PhysicalResourceId"] == "ticketing-schema-migrations"
    assert document["RequestId"] == "request-update"
    assert document["Data"]["Applied"] == ""
    assert recorded_versions(db) == before


def test_delete_answers_success_without_touching_the_database(
    db: Any, response_url: tuple[str, CapturedPuts], aws_settings: Any
) -> None:
    # Given a database the function could not even reach
    url, captured = response_url
    aws_settings(DATABASE_URL="postgresql://nobody@127.0.0.1:1/nothing")

    invoke(
        MIGRATION_FUNCTION,
        cfn_event("Delete", url, PhysicalResourceId="physical-id-from-create"),
        MIGRATION_FUNCTION.timeout,
    )

    [document] = captured.documents()
    assert document["Status"] == "SUCCESS"
    assert document["PhysicalResourceId"] == "physical-id-from-create"
    assert document["RequestId"] == "request-delete"


def test_failing_migration_answers_failed_with_a_reason(
    database_url: str, response_url: tuple[str, CapturedPuts], aws_settings: Any
) -> None:
    # Given a database URL whose database does not exist
    url, captured = response_url
    server = urlsplit(database_url)
    aws_settings(DATABASE_URL=urlunsplit(server._replace(path="/no_such_database_for_migrations")))

    result = invoke(MIGRATION_FUNCTION, cfn_event("Create", url), MIGRATION_FUNCTION.timeout)

    assert result == {"Status": "FAILED"}
    [document] = captured.documents()
    assert document["Status"] == "FAILED"
    assert "no_such_database_for_migrations" in document["Reason"]
    assert "See CloudWatch log stream" in document["Reason"]
    assert document["PhysicalResourceId"] == "ticketing-schema-migrations"
    assert document["StackId"] == STACK_ID
    assert document["LogicalResourceId"] == "DatabaseMigration"


def test_work_outliving_the_lambda_timeout_is_answered_failed_before_it(
    response_url: tuple[str, CapturedPuts],
) -> None:
    # Given work that would run past the deadline (0.3 s once the response margin is kept back)
    url, captured = response_url
    release = threading.Event()
    context = LambdaContext("MigrationFunction", 512, 1)
    context._deadline += custom_resource.RESPONSE_MARGIN_SECONDS - 0.7  # type: ignore[attr-defined]

    def slow_work(budget: float) -> dict[str, str]:
        release.wait(10)
        return {}

    worker = threading.Thread(
        target=custom_resource.handle,
        args=(cfn_event("Create", url), context),
        kwargs={"physical_resource_id": "pid", "work": slow_work},
    )
    worker.start()

    # Then the watchdog answers FAILED while the work still runs
    assert captured.arrived.wait(5)
    release.set()
    worker.join(5)
    [document] = captured.documents()
    assert document["Status"] == "FAILED"
    assert document["Reason"].startswith("Timed out")


def test_an_unreachable_response_url_does_not_raise(db: Any) -> None:
    # Port 9 on loopback refuses the connection: the handler logs it and returns normally
    result = invoke(MIGRATION_FUNCTION, cfn_event("Delete", "http://127.0.0.1:9/response"), MIGRATION_FUNCTION.timeout)

    assert result == {"Status": "SUCCESS"}


def test_after_migrating_the_application_role_gets_the_password_of_its_secret(
    db: Any, database_url: str, response_url: tuple[str, CapturedPuts], aws_settings: Any
) -> None:
    import os
    import secrets

    import boto3
    from moto import mock_aws

    from ticketing.db.migrate import APP_ROLE, enable_app_login

    url, captured = response_url
    suite_password = parse_database_url(os.environ["DATABASE_URL"]).password
    assert suite_password
    new_password = secrets.token_urlsafe(24)
    with mock_aws():
        arn = boto3.client("secretsmanager").create_secret(
            Name="ticketing-app-db", SecretString=json.dumps({"username": APP_ROLE, "password": new_password})
        )["ARN"]
        aws_settings(DATABASE_URL=database_url, APP_DB_SECRET_ARN=arn)
        try:
            invoke(
                MIGRATION_FUNCTION,
                cfn_event("Update", url, PhysicalResourceId="ticketing-schema-migrations", OldResourceProperties={}),
                MIGRATION_FUNCTION.timeout,
            )
            application = parse_database_url(database_url).as_pg8000_kwargs() | {
                "user": APP_ROLE,
                "password": new_password,
            }
            connection = pg8000.native.Connection(**application)
            try:
                logged_in_as = connection.run("SELECT current_user")[0][0]
            finally:
                connection.close()
        finally:
            enable_app_login(suite_password, parse_database_url(database_url))

    [document] = captured.documents()
    assert document["Status"] == "SUCCESS"
    assert logged_in_as == APP_ROLE
