"""Payment tests: a provider installed where every caller looks it up, the clock moved for a booking, and the API
paying through localstripe."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
import stripe

from devtools.localstripe import local_stripe, stripe_environment
from ticketing.bookings import checkout, settlement, webhooks
from ticketing.db.connection import in_transaction
from ticketing.payments import reconciliation
from ticketing.payments.provider import Intent, PaymentProvider, ProviderUnavailable, provider_named
from ticketing.payments.stripe_provider import StripePaymentProvider
from ticketing.payments.test_provider import TestPaymentProvider
from ticketing.refunds import worker

from ..refunds.conftest import row_locks_held_by_the_calling_worker

# Every module that asks for the configured provider.
_CALLERS = (checkout, settlement, webhooks, reconciliation, worker)


def install(monkeypatch: pytest.MonkeyPatch, provider: PaymentProvider) -> None:
    for module in _CALLERS:
        monkeypatch.setattr(module, "payment_provider", lambda: provider)


class RecordingProvider(TestPaymentProvider):
    """The test provider that notes each call, and whether the caller had a transaction or row locks open."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.inside_transaction: list[str] = []
        self.locks_seen: list[int] = []
        self._lock = threading.Lock()

    def _call(self) -> None:
        # Which provider method called: the caller's frame is two levels up from here.
        import inspect

        name = inspect.stack()[1].function
        inside = in_transaction()
        locks = 0 if inside else row_locks_held_by_the_calling_worker()
        with self._lock:
            self.calls.append(name)
            self.locks_seen.append(locks)
            if inside:
                self.inside_transaction.append(name)
        super()._call()


class AnswerLost(TestPaymentProvider):
    """Does what it is asked at the provider, then the answer never arrives (a timeout) for the named calls."""

    def __init__(self, *lost: str) -> None:
        self.lost = set(lost)

    def create_intent(self, **kwargs: Any) -> Intent:
        created = super().create_intent(**kwargs)
        if "create_intent" in self.lost:
            raise ProviderUnavailable("timed out after the intent was created")
        return created

    def confirm_intent(self, intent_id: str, **kwargs: Any) -> Intent:
        confirmed = super().confirm_intent(intent_id, **kwargs)
        if "confirm_intent" in self.lost:
            raise ProviderUnavailable("timed out after the confirmation was made")
        return confirmed


def past_its_window(db: Any, booking_id: str) -> None:
    """The booking's payment window closed a second ago (its seats' hold with it)."""
    moved = db.execute(
        "UPDATE bookings SET expires_at = now() - interval '1 second' WHERE id = :id", id=booking_id
    ) + db.execute(
        "UPDATE event_seats SET held_until = now() - interval '1 second' WHERE booking_id = :id", id=booking_id
    )
    assert moved >= 2


def checks_due(db: Any) -> int:
    """Every open payment is due for the reconciliation now; answers how many there are."""
    due: int = db.execute("UPDATE payments SET check_after = now() - interval '1 second' WHERE check_after IS NOT NULL")
    return due


@pytest.fixture(scope="module")
def stripe_url() -> Iterator[str]:
    with local_stripe() as url:
        yield url


@pytest.fixture
def stripe_api(stripe_url: str, fresh_settings: pytest.MonkeyPatch, api: Any) -> Iterator[Any]:
    """The in-process API paying through Stripe (localstripe); the provider a payment row names is built anew
    for this emulator (the invariant check asks it for its books)."""
    from ticketing.config import get_settings

    for name, value in stripe_environment(stripe_url).items():
        fresh_settings.setenv(name, value)
    get_settings.cache_clear()
    provider_named.cache_clear()
    install(fresh_settings, StripePaymentProvider())
    yield api
    provider_named.cache_clear()


@pytest.fixture
def browser(stripe_url: str) -> stripe.StripeClient:
    """What the customer's browser does with Stripe.js, done through the SDK against the emulator."""
    return stripe.StripeClient("sk_test_local", base_addresses={"api": stripe_url}, max_network_retries=0)


def paid_in_the_browser(
    api: Any, browser: stripe.StripeClient, shop: Any, accounts: Any, catalog: Any
) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    """A buyer's PENDING booking whose intent (from `pay`) the customer's browser has paid at the emulator;
    answers the buyer, the booking and the payment `pay` answered."""
    event = catalog.event()
    buyer = accounts.create()
    booking = shop.pending_booking(buyer, event, event.seat_ids[:1])
    paid = api.post(f"/api/bookings/{booking['id']}/pay", json={}, token=buyer.token)
    assert paid.status == 200, paid.body
    intent_id = paid.json()["payment"]["reference"]
    browser.v1.payment_intents.update(intent_id, params={"payment_method": "pm_card_visa"})
    assert browser.v1.payment_intents.confirm(intent_id).status == "succeeded"
    return buyer, booking, paid.json()["payment"]
