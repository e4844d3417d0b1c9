"""Request bodies: the media type checked, base64 and UTF-8 decoded, size-checked, parsed as
JSON and required to be an object. Every refusal is a client error (415, 413 or 400)."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any, Final

import pydantic_core
from aws_lambda_powertools.event_handler.middlewares.openapi_validation import (
    OpenAPIRequestValidationMiddleware,
)

from bankreco.api.errors import InvalidBody, PayloadTooLarge, UnsupportedMediaType
from bankreco.settings import get_settings

JSON: Final = "application/json"
#: Python refuses to read an integer of more digits than this (sys.get_int_max_str_digits).
MAX_DIGITS: Final = 4300


def check_media_type(content_type: str | None) -> None:
    """Refuse a body sent as anything but JSON: `application/json` in any letter case, with
    parameters (a charset must be UTF-8). A body sent without a Content-Type is read as JSON."""
    if content_type is None or not content_type.strip():
        return
    media, *parameters = (part.strip().lower() for part in content_type.split(";"))
    if media != JSON:
        raise UnsupportedMediaType(f"send the body as {JSON}, not {media[:80]}")
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        if name.strip() == "charset" and value.strip().strip('"') not in {"utf-8", "utf8"}:
            raise UnsupportedMediaType("send the body as UTF-8 JSON")


def decode(body: str, encoded: bool) -> str:
    """The body's text: base64-decoded when API Gateway encoded it, then read as UTF-8."""
    limit = get_settings().max_body_bytes
    if len(body) > (limit if not encoded else limit // 3 * 4 + 4):
        raise PayloadTooLarge(f"request body is larger than {limit} bytes")
    if not encoded:
        return body
    try:
        raw = base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidBody("the base64-encoded body is not valid base64") from exc
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidBody("request body is not UTF-8 text") from exc


def _integer(text: str) -> int | float:
    """An integer as json.loads reads it, or an infinity past what Python reads, so that the
    field holding it is refused by name (out of range) instead of the whole body."""
    if len(text.lstrip("-")) <= MAX_DIGITS:
        return int(text)
    return float("-inf") if text.startswith("-") else float("inf")


def parse_body(body: str) -> Any:
    """Deserialize a JSON body, refusing one over the size limit before parsing it."""
    limit = get_settings().max_body_bytes
    if len(body) > limit or len(body.encode("utf-8", "surrogatepass")) > limit:
        raise PayloadTooLarge(f"request body is larger than {limit} bytes")
    try:
        return pydantic_core.from_json(body)  # faster than json.loads
    except (ValueError, TypeError):
        pass  # json.loads decides what from_json refuses (lone surrogates, deep nesting, ...)
    try:
        return json.loads(body, parse_int=_integer)
    except RecursionError as exc:
        raise InvalidBody("request body is nested too deeply") from exc
    except ValueError as exc:
        raise InvalidBody(f"request body is not JSON: {str(exc)[:120]}") from exc


def read_object(headers: Mapping[str, str], body: str | None, encoded: bool) -> dict[str, Any]:
    """The JSON object a request's body holds."""
    check_media_type(headers.get("content-type"))
    value = parse_body(decode(body or "", encoded))
    if not isinstance(value, dict):
        raise InvalidBody(f"request body must be a JSON object, not {_kind(value)}")
    return value


def _kind(value: Any) -> str:
    return {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), "a number"
    )


class BodyValidation(OpenAPIRequestValidationMiddleware):
    """Powertools' request validation, reading the body as this module does: Powertools'
    own reading takes any media type starting with `application/json`, answers others and a
    bad base64 body with a 500, and validates a JSON array as its first element."""

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]

    def _get_body(self, app: Any) -> dict[str, Any]:
        event = app.current_event
        return read_object(event.headers, event.body, bool(event.is_base64_encoded))
