"""Rate limits as Powertools dependencies (ticketing.rate_limits; docs/security.md, "Rate limits").

`client: ClientAddress` counts the call against its source address; `caller: BuyingCaller` is `CurrentUser`
that also counts the call against the account.
"""

# Annotations stay real objects (no `from __future__ import annotations`): Powertools reads them per request.

import ipaddress
from typing import Annotated

from aws_lambda_powertools.event_handler import Request
from aws_lambda_powertools.event_handler.depends import Depends

from ticketing import rate_limits
from ticketing.auth.principal import Principal
from ticketing.config import get_settings
from ticketing.http.security import authenticated

# An IPv6 client gets a /64 from its provider: count the network, or every address in it is a fresh budget.
IPV6_PREFIX = 64


def client_address(request: Request) -> str:
    """The caller's address: CLIENT_ADDRESS_HEADER (set by the stack's own proxy) when configured and present,
    else the address API Gateway saw; IPv6 reduced to its /64."""
    event = request.resolved_event
    raw = ""
    header_name = get_settings().client_address_header
    if header_name:
        wanted = header_name.lower()
        raw = next((value for name, value in (event.headers or {}).items() if name.lower() == wanted), "")
    # API Gateway's REST proxy event (the only kind our resolvers serve) carries requestContext.identity.
    identity = (event.get("requestContext") or {}).get("identity") or {}
    raw = raw.strip() or str(identity.get("sourceIp") or "")
    return _normalised(raw)


def _normalised(raw: str) -> str:
    """`198.51.100.7`, `198.51.100.7:443` (CloudFront-Viewer-Address), `[2001:db8::1]:443` or `2001:db8::1`."""
    candidates = [raw, raw.rsplit(":", 1)[0].strip("[]")] if ":" in raw else [raw]
    for candidate in candidates:
        try:
            address = ipaddress.ip_address(candidate)
        except ValueError:
            continue
        if address.version == 6:
            return str(ipaddress.ip_network(f"{address}/{IPV6_PREFIX}", strict=False))
        return str(address)
    return raw or "unknown"


def address_limited(request: Request) -> str:
    address = client_address(request)
    rate_limits.limit_address(address)
    return address


def account_limited(request: Request) -> Principal:
    caller = authenticated(request)
    rate_limits.limit_account(caller.user_id)
    return caller


# Identifies the caller, so a request with a bad body from a caller who may not call is 401, not 422
# (ticketing.http.security.caller_rejection).
account_limited.checks_caller = True  # type: ignore[attr-defined]

ClientAddress = Annotated[str, Depends(address_limited)]
BuyingCaller = Annotated[Principal, Depends(account_limited)]
