"""HTTP requests as API Gateway REST proxy events (payload format 1.0), built the way API
Gateway and `sam local start-api` build them, and a Lambda context for calls outside Lambda.

The WSGI application (`api.wsgi`), and through it the contract tests, send every request
through `rest_event`, so the handler sees what it sees behind API Gateway.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterable, Mapping
from typing import Any, Final

#: Media types whose bodies API Gateway passes as text; any other body is base64-encoded.
_TEXT_TYPES: Final = ("application/json", "text/", "application/x-www-form-urlencoded")


class LocalContext:
    """The parts of a Lambda context the handler reads, for calls outside Lambda."""

    function_name = "bankreco-local"
    function_version = "$LATEST"
    memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:local:000000000000:function:bankreco-local"

    def __init__(self) -> None:
        self.aws_request_id = str(uuid.uuid4())

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 29_000


def rest_event(
    method: str,
    path: str,
    *,
    headers: Iterable[tuple[str, str]] = (),
    query: Iterable[tuple[str, str]] = (),
    body: bytes | None = None,
    stage: str = "local",
    stage_in_path: bool = True,
    source_ip: str = "127.0.0.1",
) -> dict[str, Any]:
    """The REST proxy event of one request; repeated headers and query parameters keep every
    value in the multi-value maps and the last one in the single-value maps. The request
    context's path starts with the stage, as for a request to the stage's own URL, unless
    `stage_in_path` is False (a custom domain, or a server of the API at its root)."""
    multi_headers = _multi(headers)
    multi_query = _multi(query)
    text, encoded = _body(body, _last(multi_headers).get(_header_name(multi_headers)))
    request_id = str(uuid.uuid4())
    return {
        "resource": path,
        "path": path,
        "httpMethod": method.upper(),
        "headers": _last(multi_headers) or None,
        "multiValueHeaders": multi_headers or None,
        "queryStringParameters": _last(multi_query) or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": path,
            "httpMethod": method.upper(),
            "path": f"/{stage}{path}" if stage_in_path else path,
            "stage": stage,
            "requestId": request_id,
            "extendedRequestId": request_id,
            "identity": {
                "sourceIp": source_ip,
                "apiKey": _last(multi_headers).get(_header_name(multi_headers, "x-api-key")),
            },
            "accountId": "000000000000",
            "apiId": "local",
            "protocol": "HTTP/1.1",
        },
        "body": text,
        "isBase64Encoded": encoded,
    }


def _multi(pairs: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for name, value in pairs:
        found.setdefault(name, []).append(value)
    return found


def _last(multi: Mapping[str, list[str]]) -> dict[str, str]:
    return {name: values[-1] for name, values in multi.items()}


def _header_name(headers: Mapping[str, list[str]], wanted: str = "content-type") -> str:
    """The spelling the client used for header `wanted` (header names ignore case)."""
    return next((name for name in headers if name.lower() == wanted), wanted)


def _body(body: bytes | None, content_type: str | None) -> tuple[str | None, bool]:
    """The event's body and isBase64Encoded: text for textual media types that decode as
    UTF-8, base64 for everything else."""
    if body is None:
        return None, False
    media = (content_type or "").split(";")[0].strip().lower()
    if not media or media.startswith(_TEXT_TYPES) or media.endswith("+json"):
        try:
            return body.decode("utf-8"), False
        except UnicodeDecodeError:
            pass
    return base64.b64encode(body).decode("ascii"), True
