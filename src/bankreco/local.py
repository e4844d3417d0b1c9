"""The Lambda handler called in this process: how `bankreco invoke` and the demo reach it."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from importlib.resources import files
from pathlib import Path
from typing import Any, Final

from bankreco.api.events import LocalContext

EXAMPLES: Final = tuple(f"predict_example_{i}.json" for i in (1, 2, 3))
Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


def powertools_defaults(*, quiet: bool) -> None:
    """What the template sets for Powertools in Lambda (the caller's environment wins); quiet
    keeps stdout for the answers: no metric blobs, warnings-only logs. Powertools reads these
    when its objects are made, so this runs before the handler is imported."""
    os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "bankreco")
    os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "Bankreco")
    if quiet:
        os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
        os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")


def handler() -> Handler:
    """The function's `lambda_handler`."""
    from bankreco.api.handler import lambda_handler

    found: Handler = lambda_handler
    return found


def invoke(event: dict[str, Any]) -> dict[str, Any]:
    """The handler's response to one API Gateway event."""
    return handler()(event, LocalContext())


def read_event(path: Path) -> dict[str, Any]:
    """An API Gateway event from a JSON file."""
    event: dict[str, Any] = json.loads(path.read_text())
    return event


def example_event(name: str) -> dict[str, Any]:
    """One of the example events shipped with the package (also in the repository's events/)."""
    event: dict[str, Any] = json.loads(files("bankreco").joinpath("examples", name).read_text())
    return event
