"""An HTTP proxy on loopback in front of the S3 endpoint that answers with the faults of
docs/reliability.md: down, slow, 5xx, a truncated body, a wrong ETag."""

from __future__ import annotations

import contextlib
import http.client
import socket
import struct
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Literal

Fault = Literal["pass", "down", "slow", "5xx", "truncated", "etag"]
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length"}


class FaultProxy:
    """Relays requests to `upstream` ("host:port") and spoils the answers as `fault` says."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.fault: Fault = "pass"
        self.released = threading.Event()  # ends every "slow" wait
        self.seen: list[tuple[str, str, dict[str, str]]] = []  # method, path, headers
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                return

            def _relay(self) -> None:
                proxy.answer(self)

            do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = _relay  # noqa: N815

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def answer(self, request: BaseHTTPRequestHandler) -> None:
        self.seen.append((request.command, request.path, dict(request.headers)))
        fault = self.fault
        if fault == "down":
            _reset(request.connection)
            request.close_connection = True
            return
        if fault == "slow":
            self.released.wait(timeout=60)
            request.close_connection = True
            return
        if fault == "5xx":
            _send(request, 503, {"Content-Type": "application/xml"}, _SLOW_DOWN)
            return
        status, headers, body = self._forward(request)
        if fault == "etag" and "ETag" in headers:
            headers["ETag"] = f'"{uuid.uuid4().hex}"'
        if fault == "truncated" and len(body) > 1:
            _send(request, status, headers, body[: len(body) // 2], declared=len(body))
            request.close_connection = True
            return
        _send(request, status, headers, body)

    def _forward(self, request: BaseHTTPRequestHandler) -> tuple[int, dict[str, str], bytes]:
        length = int(request.headers.get("Content-Length") or 0)
        payload = request.rfile.read(length) if length else None
        upstream = http.client.HTTPConnection(self.upstream, timeout=30)
        try:
            upstream.request(request.command, request.path, payload, dict(request.headers))
            response = upstream.getresponse()
            body = response.read()
            headers = {k: v for k, v in response.getheaders() if k.lower() not in _HOP_BY_HOP}
            return response.status, headers, body
        finally:
            upstream.close()

    def set(self, fault: Fault) -> None:
        self.fault = fault
        if fault != "slow":
            self.released.set()
        else:
            self.released.clear()

    def close(self) -> None:
        self.released.set()
        self._server.shutdown()
        self._server.server_close()


_SLOW_DOWN = (
    b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code>'
    b"<Message>Please reduce your request rate.</Message></Error>"
)


def _send(
    request: BaseHTTPRequestHandler,
    status: int,
    headers: dict[str, str],
    body: bytes,
    declared: int | None = None,
) -> None:
    request.send_response(status)
    for name, value in headers.items():
        request.send_header(name, value)
    request.send_header("Content-Length", str(len(body) if declared is None else declared))
    request.end_headers()
    if request.command != "HEAD":
        with contextlib.suppress(OSError):
            request.wfile.write(body)


def _reset(connection: socket.socket) -> None:
    """Close with a TCP reset, as a host that is down behind a load balancer answers."""
    with contextlib.suppress(OSError):
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        connection.close()
