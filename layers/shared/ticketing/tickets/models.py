"""Request and response bodies of tickets and check-in (docs/tickets.md)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal
from uuid import UUID

from pydantic import Field, StringConstraints, TypeAdapter, field_validator

from ticketing.models import ApiModel, UtcDateTime, UtcInput, example
from ticketing.users.models import Email

MAX_BATCH_SCANS = 500
# The API's timestamp format (2026-12-01T19:30:00Z) for values outside a model: error details, event payloads.
TIMESTAMP: TypeAdapter[datetime] = TypeAdapter(UtcDateTime)
# Generous for a 250-character code; anything longer is still judged (INVALID_TICKET), up to this bound.
MAX_CODE_INPUT = 2000


class TicketStatus(StrEnum):
    VALID = "VALID"
    CHECKED_IN = "CHECKED_IN"
    VOID = "VOID"


class VoidReason(StrEnum):
    CANCELLED = "CANCELLED"
    TRANSFERRED = "TRANSFERRED"


class TicketOut(ApiModel):
    id: UUID
    booking_id: UUID
    event_id: UUID
    seat_id: UUID
    section: str
    row: str
    number: int
    holder_name: str
    status: TicketStatus
    code: str = Field(description="JWS compact serialization (EdDSA, Ed25519) of {tid, eid}; at most 250 characters")
    checked_in_at: UtcDateTime | None


class TicketList(ApiModel):
    items: list[TicketOut]


class PublicKey(ApiModel):
    kid: str
    public_key: str = Field(description="Ed25519 public key, SubjectPublicKeyInfo PEM")


class PublicKeys(ApiModel):
    algorithm: Literal["EdDSA"] = "EdDSA"
    keys: list[PublicKey] = Field(description="The signing key first; retired keys that still verify after it")


# The shape of a ticket code (header.payload.signature); this one's signature is not real.
_EXAMPLE_CODE = (
    "eyJhbGciOiJFZERTQSIsImtpZCI6ImFiYzEyMyJ9.eyJ0aWQiOiI5YjJlNGMxYS0wZDdmLTRlOGItYTVjMy0xZjZkMmU4YjdhOTA"
    "iLCJlaWQiOiIzZmE4NWY2NC01NzE3LTQ1NjItYjNmYy0yYzk2M2Y2NmFmYTYifQ.c2lnbmF0dXJl"
)


class TransferRequest(ApiModel):
    model_config = example({"email": "friend@example.com"})

    email: Email = Field(description="the receiver's account e-mail")


# Stored with the admitted ticket: printable text only (PostgreSQL text cannot hold NUL).
ScanId = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=r"^[^\x00-\x1f\x7f]+$")]
Code = Annotated[str, StringConstraints(max_length=MAX_CODE_INPUT)]


class CheckInRequest(ApiModel):
    model_config = example(
        {
            "code": _EXAMPLE_CODE,
            "scanId": "gate-3-000123",
        }
    )

    code: Code
    scan_id: ScanId | None = Field(default=None, description="the gate's id of this scan: a retry repeats the answer")


class CheckInResult(ApiModel):
    ticket: TicketOut
    checked_in_at: UtcDateTime


class OfflineScan(ApiModel):
    code: Code
    scan_id: ScanId
    scanned_at: UtcInput


class CheckInBatch(ApiModel):
    model_config = example(
        {
            "scans": [
                {
                    "code": _EXAMPLE_CODE,
                    "scanId": "gate-3-000124",
                    "scannedAt": "2026-12-01T19:05:00Z",
                }
            ]
        }
    )

    scans: list[OfflineScan] = Field(min_length=1, max_length=MAX_BATCH_SCANS)

    @field_validator("scans")
    @classmethod
    def _unique_scan_ids(cls, scans: list[OfflineScan]) -> list[OfflineScan]:
        if len({scan.scan_id for scan in scans}) != len(scans):
            raise ValueError("Each scanId may appear only once in a batch.")
        return scans


class ScanResult(ApiModel):
    scan_id: str
    status: int = Field(description="what a single check-in would have answered: 200, 409 or 422")
    code: str | None = Field(default=None, description="the error code when status is not 200")
    checked_in_at: UtcDateTime | None = Field(
        default=None, description="when the ticket was admitted (200 and ALREADY_CHECKED_IN)"
    )


class CheckInBatchResult(ApiModel):
    results: list[ScanResult]


class Revocation(ApiModel):
    ticket_id: UUID
    revoked_at: UtcDateTime


class RevocationFeed(ApiModel):
    items: list[Revocation]
    server_time: UtcDateTime = Field(description="pass it as `since` next time")


class CheckInCounts(ApiModel):
    """Shown to an event's organizer (and admins) on GET /api/events/{id}."""

    tickets: int = Field(description="tickets that can get someone in or already did (VALID + CHECKED_IN)")
    checked_in: int
    void: int
