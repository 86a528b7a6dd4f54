"""The `?page=&pageSize=` query parameters of every paged list (docs/api.md), as handler parameter types."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import BeforeValidator, Field

from ticketing.models import ascii_integer

# An upper bound keeps OFFSET inside PostgreSQL's bigint, so an absurd page is a 422, never a 500.
MAX_PAGE = 1_000_000

# Query strings are text: ascii_integer turns plain ASCII digits into an int, and anything else ("0.5", "1_0",
# " 2") then fails the strict integer check instead of being coerced.
PageNumber = Annotated[
    int,
    Field(ge=1, le=MAX_PAGE, strict=True),
    BeforeValidator(ascii_integer),
    Query(description="1-based page number"),
]
PageSize = Annotated[
    int,
    Field(ge=1, le=100, strict=True),
    BeforeValidator(ascii_integer),
    Query(alias="pageSize", description="items per page, 1-100"),
]


def page_offset(page: int, page_size: int) -> int:
    return (page - 1) * page_size
