"""The smoke test's machinery: steps that time themselves, expectations on answers, the printed report.

The journey itself (what a working deployment must do) is `devtools.smoke_journey`; the command is
`devtools.smoke`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any, TextIO

from devtools.api_client import ApiResponse, HttpApi

# What `confirm` takes as a card that pays, per provider the deployment reports in its payment intent.
PAYING_TOKENS = {"test": "tok_visa", "stripe": "pm_card_visa"}


class StepFailed(Exception):
    """A step did not get the answer a working deployment gives; the message says what came instead."""


def expect(response: ApiResponse, *statuses: int) -> Any:
    """The JSON body when the status is one of `statuses` (None for an empty body); StepFailed otherwise."""
    if response.status not in statuses:
        wanted = " or ".join(str(status) for status in statuses)
        raise StepFailed(f"expected {wanted}, got {response.status} {_error_text(response)}".rstrip())
    return response.json() if response.body else None


def _error_text(response: ApiResponse) -> str:
    try:
        error = response.json()["error"]
        return f"{error['code']}: {error['message']}"
    except (ValueError, KeyError, TypeError):
        return response.body[:200].decode("utf-8", "replace")


@dataclass
class Options:
    url: str
    timeout: float = 15.0
    email_domain: str = "example.com"
    organizer_email: str | None = None
    organizer_password: str | None = None
    event_id: str | None = None
    payment_token: str | None = None
    admission_timeout: float = 120.0
    cancellation_cutoff_hours: float = 24.0


@dataclass
class StepResult:
    name: str
    passed: bool
    status: int | None
    millis: float
    detail: str


class Stop(Exception):
    """A step failed: the run goes straight to its cleanup."""


@dataclass
class Report:
    out: TextIO
    results: list[StepResult] = field(default_factory=list)

    def add(self, result: StepResult) -> None:
        self.results.append(result)
        status = "" if result.status is None else str(result.status)
        verdict = "PASS" if result.passed else "FAIL"
        print(
            f"  {verdict}  {result.name:<20} {status:>4} {result.millis:>7.0f} ms  {result.detail}",
            file=self.out,
            flush=True,
        )

    @property
    def failed(self) -> list[StepResult]:
        return [result for result in self.results if not result.passed]


class SmokeApi:
    """The deployment's API, remembering the status of the last answer so each step can report it."""

    def __init__(self, url: str, timeout: float) -> None:
        self._http = HttpApi(url, timeout=timeout)
        self.last_status: int | None = None

    def call(self, method: str, path: str, **kwargs: Any) -> ApiResponse:
        self.last_status = None
        response = self._http.request(method, path, **kwargs)
        self.last_status = response.status
        return response


class SmokeRun:
    def __init__(self, api: SmokeApi, report: Report) -> None:
        self.api = api
        self.report = report

    def step(self, name: str, action: Callable[[], str]) -> None:
        """Runs `action` (it answers the detail to print) and reports it; a failure stops the run (Stop)."""
        self.api.last_status = None
        started = time.perf_counter()
        try:
            detail = action()
        except StepFailed as error:
            failure = str(error)
        except OSError as error:  # refused, reset, timed out, unknown host: urllib's URLError is an OSError
            failure = f"no answer: {getattr(error, 'reason', error)}"
        except (ValueError, LookupError, TypeError) as error:  # not JSON, or not the shape the API promises
            failure = f"unexpected answer: {type(error).__name__}: {error}"
        else:
            self._record(name, True, started, detail)
            return
        self._record(name, False, started, failure)
        raise Stop(failure)

    def _record(self, name: str, passed: bool, started: float, detail: str) -> None:
        millis = (time.perf_counter() - started) * 1000
        self.report.add(StepResult(name, passed, self.api.last_status, millis, detail))

    def cleanup(self, name: str, action: Callable[[], str]) -> None:
        """Like `step`, but a failure is reported and the remaining cleanup still runs."""
        with suppress(Stop):
            self.step(name, action)
