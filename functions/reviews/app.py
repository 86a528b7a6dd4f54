"""ReviewsFunction: /api/events/{id}/reviews (read and write event reviews)."""

from __future__ import annotations

from uuid import UUID

from ticketing.http.operations import answers
from ticketing.http.paging import PageNumber, PageSize
from ticketing.http.resolver import create_resolver, lambda_entrypoint
from ticketing.http.security import CurrentUser
from ticketing.http.tags import ApiTag
from ticketing.reviews import service
from ticketing.reviews.models import ReviewCreate, ReviewOut, ReviewPage

app = create_resolver(tag=ApiTag.REVIEWS)


@app.get("/api/events/<event_id>/reviews", summary="Reviews of an event with its average rating")
@answers(ReviewPage, errors={404: ["NOT_FOUND"]})
def list_reviews(event_id: UUID, page: PageNumber = 1, page_size: PageSize = 20) -> ReviewPage:
    """Public for every event except drafts. `averageRating` covers all reviews, not just the page."""
    return service.list_reviews(event_id, page=page, page_size=page_size)


@app.post("/api/events/<event_id>/reviews", summary="Review an event you attended", status_code=201)
@answers(ReviewOut, status=201, errors={403: ["REVIEW_NOT_ALLOWED"], 404: ["NOT_FOUND"], 409: ["ALREADY_REVIEWED"]})
def create_review(event_id: UUID, body: ReviewCreate, caller: CurrentUser) -> ReviewOut:
    """Needs a CONFIRMED booking for an event that has started; one review per user and event."""
    return service.create_review(caller, event_id, body)


lambda_handler = lambda_entrypoint(app)
