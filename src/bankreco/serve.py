"""`bankreco serve`: the API on localhost, without Docker or AWS.

Each HTTP request becomes the API Gateway REST proxy event `sam local start-api` would build
and is answered by the real Lambda handler (bankreco.api.wsgi), Swagger UI at /swagger.

The server is werkzeug's threaded WSGI server rather than the standard library's `wsgiref`:
wsgiref serves one connection at a time over HTTP/1.0 and cannot read chunked bodies, while
werkzeug's handles each connection on its own thread, speaks HTTP/1.1 and logs one line per
request. The handler itself is called one request at a time (the WSGI application holds a
lock), as Lambda calls it: Powertools' resolver keeps the current request on the shared app.
"""

from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from werkzeug.serving import BaseWSGIServer


def make_server(host: str, port: int) -> BaseWSGIServer:
    """The threaded server of the API on `host`:`port` (0: any free port)."""
    from werkzeug.serving import make_server as werkzeug_server

    from bankreco.api.wsgi import Application

    return werkzeug_server(host, port, Application(), threaded=True)


def url_of(server: BaseWSGIServer) -> str:
    host = server.host if ":" not in server.host else f"[{server.host}]"
    return f"http://{host}:{server.port}"


def serve(host: str, port: int, out: TextIO = sys.stderr) -> int:
    """Serve until Ctrl-C; one line per request on `out`."""
    _log_requests_to(out)
    server = make_server(host, port)
    url = url_of(server)
    print(f"bankreco serving on {url} (Swagger UI: {url}/swagger); Ctrl-C stops", file=out)
    try:
        server.serve_forever()  # werkzeug's returns on Ctrl-C
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    print("bankreco serve: stopped", file=out)
    return 0


def _log_requests_to(out: TextIO) -> None:
    """werkzeug logs each request on its `werkzeug` logger: one plain line each on `out`."""
    logger = logging.getLogger("werkzeug")
    logger.setLevel(logging.INFO)
    handler = logging.StreamHandler(out)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger.handlers = [handler]
    logger.propagate = False
