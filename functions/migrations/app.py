"""MigrationFunction: the CloudFormation custom resource that applies the database migrations on deploy.

Create and Update run `ticketing.db.migrate.apply_migrations()` (what `make db-migrate` runs; applied
versions are skipped, so re-running is harmless), then give the application role the password of its secret
(APP_DB_SECRET_ARN; docs/security.md, "Database roles"). Delete changes nothing: the data outlives the resource.
This is the only function that connects as the master user.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from ticketing.config import get_settings
from ticketing.db.migrate import apply_migrations, enable_app_login_from_secret, migration_files
from ticketing.deploy import custom_resource
from ticketing.observability import instrumented, logger

PHYSICAL_RESOURCE_ID = "ticketing-schema-migrations"


def migrate(budget_seconds: float) -> Mapping[str, str]:
    applied = apply_migrations(statement_timeout_ms=max(int(budget_seconds * 1000), 1))
    logger.info("migrations applied", extra={"applied": applied})
    app_secret_arn = get_settings().app_db_secret_arn
    if app_secret_arn:
        enable_app_login_from_secret(app_secret_arn)
    return {"Applied": ",".join(applied), "SchemaVersion": migration_files()[-1][0]}


def handle(event: dict[str, Any], context: LambdaContext) -> dict[str, str]:
    status = custom_resource.handle(event, context, physical_resource_id=PHYSICAL_RESOURCE_ID, work=migrate)
    return {"Status": status}


lambda_handler = instrumented(handle)
