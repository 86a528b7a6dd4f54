"""PaymentsFunction: POST /api/payments/webhooks/{provider}, the payment provider's signed webhooks.

No bearer token: the provider's signature is the authentication (docs/payments.md). The answer is 2xx only once
the event's effect is committed; anything else makes the provider deliver it again.
"""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Path

from ticketing.bookings.webhooks import handle_webhook
from ticketing.http.operations import answers
from ticketing.http.resolver import create_resolver, lambda_entrypoint
from ticketing.http.tags import ApiTag
from ticketing.models import ApiModel

app = create_resolver(tag=ApiTag.PAYMENTS)

ProviderName = Annotated[str, Path(pattern=r"^[a-z]{1,20}$", description="the payment provider, e.g. `stripe`")]


class WebhookReceived(ApiModel):
    received: bool
    event_id: str
    outcome: str


@app.post("/api/payments/webhooks/<provider>", summary="The payment provider's signed event (Stripe webhooks)")
@answers(WebhookReceived, errors={400: ["INVALID_SIGNATURE"], 404: ["NOT_FOUND"], 503: ["SERVICE_UNAVAILABLE"]})
def webhook(provider: ProviderName) -> WebhookReceived:
    """Verified by its signature (`Stripe-Signature`, 5-minute tolerance; a bad or missing one is 400 and changes
    nothing), deduplicated by the provider's event id, settled like a confirm."""
    event = app.current_event
    headers = {name.lower(): value for name, value in (event.headers or {}).items()}
    handled = handle_webhook(provider, (event.body or "").encode("utf-8"), headers)
    return WebhookReceived(received=True, event_id=handled.event_id, outcome=handled.outcome)


lambda_handler = lambda_entrypoint(app)
