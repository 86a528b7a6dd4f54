"""The one door every request walks through before routing: body decoding, JSON rules, NUL characters.

Each check answers a 4xx with the error envelope and nothing runs; see docs/api-errors.md. What passes is
handed on as a clean event: the body as UTF-8 text (never base64), `Content-Type: application/json`.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from collections.abc import Mapping
from typing import Any

from ticketing.errors import DomainError, InvalidJson, PayloadTooLarge, UnsupportedMediaType, ValidationFailed

MAX_BODY_BYTES = 1024 * 1024
# Deeper than any body of ours needs (a booking request is 3 levels); keeps parsers and validators shallow.
MAX_JSON_DEPTH = 32
# Far more than any of our objects has (a dozen fields); a flood of unknown keys is refused before validation.
MAX_OBJECT_KEYS = 256
JSON_CONTENT_TYPE = "application/json"


def admitted_event(event: Mapping[str, Any]) -> dict[str, Any]:
    """The event with a clean body and headers; raises the DomainError saying why the request is refused."""
    _refuse_nul_in_parameters(event)
    body = event.get("body")
    if not body:
        # No body, no media type to judge: the handler sees a request without one (a 422 where a body is due).
        return _with_content_type(event, None, None)
    raw = _raw_body(body, base64_encoded=bool(event.get("isBase64Encoded")))
    if len(raw) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"The request body is larger than {MAX_BODY_BYTES} bytes.")
    content_type = header(event, "content-type")
    if content_type and not is_json_media_type(content_type):
        raise UnsupportedMediaType("Send the body as JSON with Content-Type: application/json.")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidJson("The request body is not UTF-8.") from None
    _check_json(text)
    # Any spelling of a JSON media type reaches the handlers as the one Powertools parses.
    return _with_content_type(event, text, JSON_CONTENT_TYPE)


def _with_content_type(event: Mapping[str, Any], body: str | None, content_type: str | None) -> dict[str, Any]:
    """A copy of the event with this text body (never base64) and only this Content-Type (None: none)."""
    single = {name: value for name, value in (event.get("headers") or {}).items() if name.lower() != "content-type"}
    multi = {
        name: values
        for name, values in (event.get("multiValueHeaders") or {}).items()
        if name.lower() != "content-type"
    }
    if content_type is not None:
        single["Content-Type"] = content_type
        multi["Content-Type"] = [content_type]
    return {
        **event,
        "body": body,
        "isBase64Encoded": False,
        "headers": single or None,
        "multiValueHeaders": multi or None,
    }


def is_json_media_type(content_type: str) -> bool:
    """`application/json` in any letter case, with parameters, and any `+json` structured syntax type."""
    media_type = content_type.split(";")[0].strip().lower()
    kind, _, subtype = media_type.partition("/")
    return kind == "application" and (subtype == "json" or subtype.endswith("+json"))


def header(event: Mapping[str, Any], name: str) -> str:
    for key, value in (event.get("headers") or {}).items():
        if key.lower() == name:
            return str(value)
    return ""


def _raw_body(body: str, *, base64_encoded: bool) -> bytes:
    if not base64_encoded:
        # API Gateway hands a non-binary body over as text; surrogates mean it was not UTF-8 to begin with.
        try:
            return body.encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidJson("The request body is not UTF-8.") from None
    if len(body) > (MAX_BODY_BYTES * 4) // 3 + 4:
        raise PayloadTooLarge(f"The request body is larger than {MAX_BODY_BYTES} bytes.")
    try:
        return base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidJson("The request body could not be decoded.") from None


def _refuse_constant(name: str) -> Any:
    raise InvalidJson(f"{name} is not a JSON number.")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e400 parses as infinity
        raise InvalidJson("Numbers must be finite.")
    return value


def _check_json(text: str) -> None:
    try:
        document = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except RecursionError:
        raise InvalidJson(f"The request body is nested deeper than {MAX_JSON_DEPTH} levels.") from None
    except ValueError:  # JSONDecodeError, and integers longer than Python's digit limit
        raise InvalidJson("The request body is not valid JSON.") from None
    # Both walks are skipped when the text shows they cannot find anything: fewer brackets than the depth
    # limit cannot nest too deep, and a NUL can only be written as the escape \u0000 (a raw one is not JSON).
    if text.count("[") + text.count("{") > MAX_JSON_DEPTH or text.count(":") > MAX_OBJECT_KEYS:
        _check_shape(document)
    if "\\u0000" in text:
        _check_nul(document)


def _check_shape(document: Any) -> None:
    """Depth and keys per object; iterative, so a deep document costs no stack."""
    pending: list[tuple[Any, int, str]] = [(document, 1, "")] if isinstance(document, dict | list) else []
    while pending:
        value, depth, path = pending.pop()
        if depth > MAX_JSON_DEPTH:
            raise InvalidJson(f"The request body is nested deeper than {MAX_JSON_DEPTH} levels.")
        if isinstance(value, dict) and len(value) > MAX_OBJECT_KEYS:
            raise ValidationFailed.for_field(path or "body", f"At most {MAX_OBJECT_KEYS} fields per object.")
        children = value.items() if isinstance(value, dict) else enumerate(value)
        pending.extend(
            (child, depth + 1, _child_path(path, name)) for name, child in children if isinstance(child, dict | list)
        )


def _child_path(path: str, name: str | int) -> str:
    if isinstance(name, int):
        return f"{path}[{name}]"
    return f"{path}.{name}" if path else name


def _check_nul(document: Any) -> None:
    """The first string or key with a NUL character, named like a validation error names fields."""
    pending: list[tuple[Any, str]] = [(document, "")]
    while pending:
        value, path = pending.pop()
        if isinstance(value, dict):
            for key, item in value.items():
                if "\x00" in key:
                    raise _nul_in(path or "body")
                pending.append((item, _child_path(path, key)))
        elif isinstance(value, list):
            pending.extend((item, _child_path(path, index)) for index, item in enumerate(value))
        elif isinstance(value, str) and "\x00" in value:
            raise _nul_in(path or "body")


def _nul_in(field: str) -> DomainError:
    return ValidationFailed.for_field(field, "NUL characters are not allowed.")


def _refuse_nul_in_parameters(event: Mapping[str, Any]) -> None:
    for source in ("queryStringParameters", "pathParameters", "headers"):
        for name, value in (event.get(source) or {}).items():
            if "\x00" in str(name) or "\x00" in str(value):
                raise _nul_in(str(name).replace("\x00", ""))
    for source in ("multiValueQueryStringParameters", "multiValueHeaders"):
        for name, values in (event.get(source) or {}).items():
            if "\x00" in str(name) or any("\x00" in str(value) for value in values or ()):
                raise _nul_in(str(name).replace("\x00", ""))
