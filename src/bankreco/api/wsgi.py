"""The API as a WSGI application: each HTTP request becomes the API Gateway REST proxy event
(`events.rest_event`) and is answered by the real Lambda handler, so that a WSGI server or
test client sees what a client of API Gateway sees.

The handler is called by one request at a time: Powertools' resolver keeps the current
request on the shared `app`, so two requests in the handler at once would mix; Lambda, too,
runs one invocation at a time in a process.
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable, Iterator, Mapping
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import parse_qsl

from bankreco.api.events import LocalContext, rest_event

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]
#: API Gateway refuses a larger payload before it reaches the function.
MAX_PAYLOAD: Final = 10 * 1024 * 1024
TOO_LONG: Final = b'{"message":"Request Too Long"}'  # API Gateway's own answer
#: CGI names of the two headers WSGI keeps without the HTTP_ prefix.
_UNPREFIXED: Final = {"CONTENT_TYPE": "Content-Type", "CONTENT_LENGTH": "Content-Length"}


class Application:
    """A WSGI application answering through `handler` (the function's `lambda_handler` by
    default), one request at a time. `stage` is reported in the events' request context;
    the paths carry none, as behind a custom domain: the API is served at the root."""

    def __init__(self, handler: Handler | None = None, *, stage: str = "local") -> None:
        if handler is None:
            from bankreco.api.handler import lambda_handler

            handler = lambda_handler
        self.handler = handler
        self.stage = stage
        self._lock = threading.Lock()

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> list[bytes]:
        body = _body(environ)
        if body is not None and len(body) > MAX_PAYLOAD:
            return _answer(start_response, 413, [], TOO_LONG)
        event = rest_event(
            environ["REQUEST_METHOD"],
            _text(environ.get("PATH_INFO") or "/"),
            headers=list(_headers(environ)),
            query=parse_qsl(_text(environ.get("QUERY_STRING", "")), keep_blank_values=True),
            body=body,
            stage=self.stage,
            stage_in_path=False,
            source_ip=environ.get("REMOTE_ADDR") or "127.0.0.1",
        )
        with self._lock:
            response = self.handler(event, LocalContext())
        status, headers, content = http_response(response)
        return _answer(start_response, status, headers, content)


def http_response(response: Mapping[str, Any]) -> tuple[int, list[tuple[str, str]], bytes]:
    """The status, headers (each value of a multi-value header) and body bytes of a Lambda
    proxy response."""
    headers = [
        (name, str(value))
        for name, values in (response.get("multiValueHeaders") or {}).items()
        for value in values
    ]
    named = {name.lower() for name, _ in headers}
    for name, value in (response.get("headers") or {}).items():
        if name.lower() not in named:
            headers.append((name, str(value)))
    text = response.get("body") or ""
    body = base64.b64decode(text) if response.get("isBase64Encoded") else text.encode("utf-8")
    return int(response["statusCode"]), headers, body


def _answer(
    start_response: StartResponse, status: int, headers: list[tuple[str, str]], body: bytes
) -> list[bytes]:
    kept = [(n, v) for n, v in headers if n.lower() not in {"content-length", "content-type"}]
    types = [v for n, v in headers if n.lower() == "content-type"][-1:] or ["application/json"]
    start_response(
        f"{status} {_phrase(status)}",
        [*kept, ("Content-Type", types[0]), ("Content-Length", str(len(body)))],
    )
    return [body]


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def _body(environ: WSGIEnvironment) -> bytes | None:
    """The request's body (Content-Length bytes, or a chunked body to its end), read up to
    one byte past the payload limit; None if there is none."""
    try:
        length = min(max(int(environ["CONTENT_LENGTH"]), 0), MAX_PAYLOAD + 1)
    except (KeyError, ValueError):
        length = MAX_PAYLOAD + 1 if environ.get("wsgi.input_terminated") else 0
    body: bytes = environ["wsgi.input"].read(length) if length else b""
    return body or None


def _headers(environ: WSGIEnvironment) -> Iterator[tuple[str, str]]:
    """The request's headers, named as HTTP spells them (WSGI keeps them as CGI names)."""
    for key, value in environ.items():
        if key in _UNPREFIXED:
            name = _UNPREFIXED[key]
        elif key.startswith("HTTP_"):
            name = "-".join(part.capitalize() for part in key[5:].split("_"))
        else:
            continue
        if value:
            yield name, _text(value)


def _text(value: str) -> str:
    """A WSGI string (bytes held as latin-1 characters) as the UTF-8 text the client sent."""
    try:
        return value.encode("latin-1").decode("utf-8", "replace")
    except UnicodeEncodeError:  # a server that passed text, not bytes as latin-1
        return value
