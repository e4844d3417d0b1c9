"""Request bodies: size-checked, then parsed as JSON."""

from __future__ import annotations

import json
from typing import Any

import pydantic_core

from bankreco.api.errors import InvalidBody, PayloadTooLarge
from bankreco.settings import get_settings


def parse_body(body: str) -> Any:
    """Deserialize a JSON body, refusing one over the size limit before parsing it."""
    limit = get_settings().max_body_bytes
    if len(body) > limit or len(body.encode("utf-8", "surrogatepass")) > limit:
        raise PayloadTooLarge(f"request body is larger than {limit} bytes")
    try:
        return pydantic_core.from_json(body)  # faster than json.loads
    except (ValueError, TypeError):
        pass  # json.loads decides what from_json refuses (lone surrogates, deep nesting)
    try:
        return json.loads(body)
    except RecursionError as exc:
        raise InvalidBody("request body is nested too deeply") from exc
