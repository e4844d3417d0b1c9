"""The Lambda handler called in this process: how `bankreco invoke` and the demo reach it."""

from __future__ import annotations

import base64
import json
import os
import warnings
from collections.abc import Callable
from importlib.resources import files
from pathlib import Path
from typing import Any, Final

from bankreco.api.events import LocalContext, rest_event

EXAMPLES: Final = tuple(f"predict_example_{i}.json" for i in (1, 2, 3))
Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


def powertools_defaults(*, quiet: bool) -> None:
    """What the template sets for Powertools in Lambda (the caller's environment wins); quiet
    keeps stdout for the answers: no metric blobs, warnings-only logs. Powertools reads these
    when its objects are made, so this runs before the handler is imported."""
    os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "bankreco")
    os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "Bankreco")
    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")  # no X-Ray outside Lambda
    if quiet:
        os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
        os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
        # Powertools warns on every invocation that adds no metric; disabled ones add none.
        warnings.filterwarnings("ignore", "No application metrics to publish", UserWarning)


def handler() -> Handler:
    """The function's `lambda_handler`."""
    from bankreco.api.handler import lambda_handler

    found: Handler = lambda_handler
    return found


def invoke(event: dict[str, Any]) -> dict[str, Any]:
    """The handler's response to one API Gateway event."""
    return handler()(event, LocalContext())


def read_event(path: Path) -> dict[str, Any]:
    """An API Gateway event from a JSON file; a bare request body (a profile, or a batch with
    `customers`) is wrapped in the event API Gateway would send for it."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: no such file") from None
    except (IsADirectoryError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: not a JSON file ({type(exc).__name__})") from None
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise ValueError(f"{path}: not JSON: {exc}") from None
    if not isinstance(document, dict):
        raise ValueError(f"{path}: neither an API Gateway event nor a request body (an object)")
    if "httpMethod" in document and "requestContext" in document:
        return document
    route = "/recommendations/batch" if "customers" in document else "/recommendations"
    headers = [("Content-Type", "application/json")]
    return rest_event("POST", route, headers=headers, body=text.encode("utf-8"))


EXPLAINED_ROUTES: Final = ("/recommendations", "/recommendations/batch")


def with_explain(event: dict[str, Any]) -> dict[str, Any]:
    """`event` asking for reasons: `"explain": true` added to the JSON object body of a POST
    to a recommendation route (any other event is returned as it is)."""
    if event.get("httpMethod") != "POST" or event.get("path") not in EXPLAINED_ROUTES:
        return event
    raw = event.get("body") or ""
    try:
        text = base64.b64decode(raw).decode() if event.get("isBase64Encoded") else str(raw)
        body = json.loads(text)
    except ValueError:
        return event  # the handler names what is wrong with it
    if not isinstance(body, dict):
        return event
    return {**event, "body": json.dumps({**body, "explain": True}), "isBase64Encoded": False}


def example_event(name: str) -> dict[str, Any]:
    """One of the example events shipped with the package (also in the repository's events/)."""
    event: dict[str, Any] = json.loads(files("bankreco").joinpath("examples", name).read_text())
    return event
