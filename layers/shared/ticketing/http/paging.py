"""The `?page=&pageSize=` query parameters of every paged list (SPEC §2), as handler parameter types."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import BeforeValidator

from ticketing.models import ascii_integer

# An upper bound keeps OFFSET inside PostgreSQL's bigint, so an absurd page is a 422, never a 500.
MAX_PAGE = 1_000_000

PageNumber = Annotated[
    int, BeforeValidator(ascii_integer), Query(ge=1, le=MAX_PAGE, strict=True, description="1-based page number")
]
PageSize = Annotated[
    int,
    BeforeValidator(ascii_integer),
    Query(alias="pageSize", ge=1, le=100, strict=True, description="items per page, 1-100"),
]


def page_offset(page: int, page_size: int) -> int:
    return (page - 1) * page_size
