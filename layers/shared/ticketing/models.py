"""Base types for the JSON contract: camelCase fields, unknown fields rejected, UTC timestamps with `Z`."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated, Any, Self

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, PlainSerializer
from pydantic.alias_generators import to_camel


class ApiModel(BaseModel):
    """Request and response bodies: camelCase on the wire, snake_case in Python, no unknown fields."""

    # defer_build: a model's validator is built when it is first used, not when the function is imported (a
    # function defines dozens of models and one request uses a few; docs/decisions.md, cold starts).
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True, defer_build=True
    )

    @classmethod
    def from_row(cls, row: Mapping[str, Any], **fields: Any) -> Self:
        """The model from a database row whose columns are named like its fields; `fields` add or replace."""
        return cls.model_validate({**{name: row[name] for name in cls.model_fields if name not in fields}, **fields})


def iso_utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


# Timestamps leave as ISO 8601 in UTC with seconds precision, e.g. 2026-12-01T19:30:00Z.
UtcDateTime = Annotated[datetime, PlainSerializer(iso_utc, return_type=str)]
# Accepted timestamps: wide enough for any real event or coupon, narrow enough that adding a TTL or a cutoff
# never leaves Python's or PostgreSQL's range.
EARLIEST_INPUT = datetime(1970, 1, 1, tzinfo=UTC)
LATEST_INPUT = datetime(3000, 1, 1, tzinfo=UTC)


def _in_utc(moment: datetime) -> datetime:
    try:
        utc = moment.astimezone(UTC)
    except OverflowError:
        utc = None
    if utc is None or not EARLIEST_INPUT <= utc < LATEST_INPUT:
        raise ValueError("Timestamps must lie between 1970-01-01T00:00:00Z and 2999-12-31T23:59:59Z.")
    return utc


# Timestamps arrive with an explicit offset (a naive time is ambiguous) and are kept in UTC.
UtcInput = Annotated[AwareDatetime, AfterValidator(_in_utc)]

# Numbers in request bodies are strict (`"1000"` is not an integer, `true` is not 1) and always bounded, so
# no input reaches PostgreSQL's integer types out of range. docs/api-errors.md lists the conventions.
MAX_INT32 = 2**31 - 1
Version = Annotated[int, Field(ge=1, le=MAX_INT32, strict=True, description="the booking's version")]
MinorUnits = Annotated[int, Field(ge=0, le=10**12, strict=True, description="an amount in minor units")]


def ascii_integer(value: Any) -> Any:
    # A query string is text: only plain ASCII digits become an integer ("1.0", "1_0", " 2", "٣" do not).
    if isinstance(value, str) and value.isascii() and value.lstrip("-").isdigit() and len(value) <= 19:
        return int(value)
    return value


class Page[ItemT](ApiModel):
    items: list[ItemT]
    page: int
    page_size: int
    total: int


def example(body: dict[str, Any]) -> ConfigDict:
    """A request model's example for the OpenAPI document, written as a client sends it (camelCase)."""
    return ConfigDict(json_schema_extra={"examples": [body]})
