"""HealthFunction: GET /api/health."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response, content_types

from ticketing.db import transaction
from ticketing.errors import ServiceUnavailable
from ticketing.http.resolver import create_resolver, lambda_entrypoint
from ticketing.http.tags import ApiTag
from ticketing.models import ApiModel

app = create_resolver(tag=ApiTag.HEALTH)


class Health(ApiModel):
    status: str
    database: str


@app.get(
    "/api/health",
    summary="Liveness and database reachability",
    responses={503: {"description": "Database unavailable", "content": {"application/json": {"model": Health}}}},
)
def health() -> Response[Health]:
    """Public; 503 with `database: unavailable` when the database does not answer."""
    try:
        with transaction() as tx:
            tx.value("SELECT 1")
    except ServiceUnavailable:
        return Response(503, content_types.APPLICATION_JSON, Health(status="degraded", database="unavailable"))
    return Response(200, content_types.APPLICATION_JSON, Health(status="ok", database="ok"))


lambda_handler = lambda_entrypoint(app)
