"""Base types for the JSON contract: camelCase fields, unknown fields rejected, UTC timestamps with `Z`."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated, Any, Self

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, PlainSerializer
from pydantic.alias_generators import to_camel


class ApiModel(BaseModel):
    """Request and response bodies: camelCase on the wire, snake_case in Python, no unknown fields."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True)

    @classmethod
    def from_row(cls, row: Mapping[str, Any], **fields: Any) -> Self:
        """The model from a database row whose columns are named like its fields; `fields` add or replace."""
        return cls.model_validate({**{name: row[name] for name in cls.model_fields if name not in fields}, **fields})


def _iso_utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


# Timestamps leave as ISO 8601 in UTC with seconds precision, e.g. 2026-12-01T19:30:00Z.
UtcDateTime = Annotated[datetime, PlainSerializer(_iso_utc, return_type=str)]
# Timestamps arrive with an explicit offset (a naive time is ambiguous) and are kept in UTC.
UtcInput = Annotated[AwareDatetime, AfterValidator(lambda moment: moment.astimezone(UTC))]


class Page[ItemT](ApiModel):
    items: list[ItemT]
    page: int
    page_size: int
    total: int
