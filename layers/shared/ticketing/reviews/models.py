"""Request and response bodies of /api/events/{id}/reviews."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from pydantic import Field, StringConstraints, field_validator

from ticketing.models import ApiModel, Page, UtcDateTime, example


class ReviewCreate(ApiModel):
    model_config = example({"rating": 5, "comment": "Unforgettable evening."})

    rating: Annotated[int, Field(ge=1, le=5, strict=True)]
    comment: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] | None = None

    @field_validator("comment")
    @classmethod
    def _blank_is_no_comment(cls, value: str | None) -> str | None:
        return value or None


class ReviewOut(ApiModel):
    id: UUID
    user_id: UUID
    user_name: str
    rating: int
    comment: str | None
    created_at: UtcDateTime


class ReviewPage(Page[ReviewOut]):
    average_rating: float | None = Field(description="over all reviews, 2 decimals; null when there are none")
    review_count: int
