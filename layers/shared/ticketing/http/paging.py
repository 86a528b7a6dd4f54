"""The `?page=&pageSize=` query parameters of every paged list (docs/api.md), as handler parameter types."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query

# An upper bound keeps OFFSET inside PostgreSQL's bigint, so an absurd page is a 422, never a 500.
MAX_PAGE = 1_000_000

PageNumber = Annotated[int, Query(ge=1, le=MAX_PAGE, description="1-based page number")]
PageSize = Annotated[int, Query(alias="pageSize", ge=1, le=100, description="items per page, 1-100")]


def page_offset(page: int, page_size: int) -> int:
    return (page - 1) * page_size
