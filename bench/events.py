"""The API Gateway events the rows send: the repo's own event files (events/)."""

from __future__ import annotations

import json
from typing import Any

from bench.proc import ROOT

EVENTS = ROOT / "events"
HANDLER = ROOT / "functions" / "predict" / "app.py"


def example_events() -> list[dict[str, Any]]:
    """POST /recommendations with the three example bodies of the original service."""
    return [json.loads((EVENTS / f"predict_example_{i}.json").read_text()) for i in (1, 2, 3)]


def batch_event(customers: list[dict[str, Any]]) -> dict[str, Any]:
    """POST /recommendations/batch with `customers` as its body."""
    event: dict[str, Any] = json.loads((EVENTS / "batch.json").read_text())
    event["body"] = json.dumps({"customers": customers})
    return event


class Context:
    """The parts of a Lambda context the handler reads."""

    function_name = "bankreco-bench"
    function_version = "$LATEST"
    memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:local:000000000000:function:bankreco-bench"
    aws_request_id = "00000000-0000-4000-8000-000000000000"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 29_000
