"""The venue and section shapes of docs/api.md and their inputs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Self
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, Field, StringConstraints, field_validator

from ticketing.models import ApiModel, example

# The largest section is 500 x 500 seats; both limits also hold as CHECKs in the schema.
MAX_ROWS = 500
MAX_SEATS_PER_ROW = 500
# Minor units; 10^12 cents is far beyond any ticket and well inside bigint.
MAX_PRICE = 10**12


def _iana_timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError("Use an IANA time zone name such as Europe/Berlin.") from error
    return value


VenueName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Address = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
City = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
Country = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
Timezone = Annotated[str, StringConstraints(min_length=1, max_length=64), AfterValidator(_iana_timezone)]
SectionName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Price = Annotated[int, Field(ge=0, le=MAX_PRICE, strict=True)]


class VenueCreate(ApiModel):
    model_config = example(
        {
            "name": "Royal Albert Hall",
            "address": "Kensington Gore",
            "city": "London",
            "country": "GB",
            "timezone": "Europe/London",
        }
    )

    name: VenueName
    address: Address
    city: City
    country: Country = Field(description="ISO 3166-1 alpha-2, upper case")
    timezone: Timezone = Field(description="IANA time zone name")


class VenueUpdate(ApiModel):
    """Any of the venue's fields; none of them can be cleared."""

    model_config = example({"name": "Royal Albert Hall (main stage)"})

    name: VenueName | None = None
    address: Address | None = None
    city: City | None = None
    country: Country | None = None
    timezone: Timezone | None = None

    @field_validator("name", "address", "city", "country", "timezone")
    @classmethod
    def _not_null(cls, value: str | None) -> str:
        if value is None:
            raise ValueError("This field cannot be null.")
        return value


class SectionCreate(ApiModel):
    model_config = example({"name": "Stalls", "rows": 20, "seatsPerRow": 30, "defaultPrice": 4500})

    name: SectionName
    rows: Annotated[int, Field(ge=1, le=MAX_ROWS, strict=True)]
    seats_per_row: Annotated[int, Field(ge=1, le=MAX_SEATS_PER_ROW, strict=True)]
    default_price: Price | None = None


class SectionOut(ApiModel):
    id: UUID
    name: str
    rows: int
    seats_per_row: int
    seat_count: int
    default_price: int | None

    @classmethod
    def from_row(cls, row: Mapping[str, Any], **fields: Any) -> Self:
        return super().from_row(row, seat_count=row["rows"] * row["seats_per_row"], **fields)


class VenueOut(ApiModel):
    id: UUID
    name: str
    address: str
    city: str
    country: str
    timezone: str
    sections: list[SectionOut]
    capacity: int

    @classmethod
    def from_rows(cls, venue: dict[str, Any], sections: list[dict[str, Any]]) -> VenueOut:
        section_models = [SectionOut.from_row(section) for section in sections]
        return cls.from_row(
            venue, sections=section_models, capacity=sum(section.seat_count for section in section_models)
        )
