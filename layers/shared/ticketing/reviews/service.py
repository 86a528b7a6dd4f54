"""Who may review an event, and the review list with its average."""

from __future__ import annotations

from uuid import UUID

from ticketing.auth.principal import Principal
from ticketing.db import Session, transaction
from ticketing.errors import Forbidden, NotFound
from ticketing.http.paging import page_offset
from ticketing.reviews import repository as reviews_repo
from ticketing.reviews.models import ReviewCreate, ReviewOut, ReviewPage


def _visible_event(tx: Session, event_id: UUID) -> dict[str, object]:
    """Drafts are nobody's business here: they cannot have attendees, so they answer like unknown events."""
    event = reviews_repo.find_event(tx, event_id)
    if event is None or event["status"] == "DRAFT":
        raise NotFound("No such event.")
    return event


def list_reviews(event_id: UUID, *, page: int, page_size: int) -> ReviewPage:
    with transaction() as tx:
        _visible_event(tx, event_id)
        summary = reviews_repo.review_summary(tx, event_id)
        rows = reviews_repo.list_reviews(tx, event_id, limit=page_size, offset=page_offset(page, page_size))
    average = summary["average_rating"]
    return ReviewPage(
        items=[ReviewOut.from_row(row) for row in rows],
        page=page,
        page_size=page_size,
        total=summary["review_count"],
        average_rating=None if average is None else float(average),
        review_count=summary["review_count"],
    )


def create_review(principal: Principal, event_id: UUID, request: ReviewCreate) -> ReviewOut:
    """Only attendees review: a CONFIRMED booking for an event that has started. One review per user and event."""
    with transaction() as tx:
        event = _visible_event(tx, event_id)
        if not event["started"] or not reviews_repo.has_confirmed_booking(
            tx, event_id=event_id, user_id=principal.user_id
        ):
            raise Forbidden(
                "Only people with a confirmed booking can review an event, once it has started.",
                code="REVIEW_NOT_ALLOWED",
            )
        row = reviews_repo.insert_review(
            tx, event_id=event_id, user_id=principal.user_id, rating=request.rating, comment=request.comment
        )
    return ReviewOut.from_row(row)
