"""Logger, Tracer and Metrics of the service, configured by POWERTOOLS_* variables."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any, Protocol, TypeVar, cast

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.shared.constants import TRACER_DISABLED_ENV
from aws_lambda_powertools.shared.functions import resolve_truthy_env_var_choice

Handler = TypeVar("Handler", bound=Callable[..., Any])


class HandlerTracer(Protocol):
    """What the function uses of a tracer."""

    def capture_lambda_handler(self, handler: Handler) -> Handler: ...


class NoTracer:
    """Powertools' Tracer when POWERTOOLS_TRACE_DISABLED is true: the Tracer imports the X-Ray
    SDK even when disabled (its cost: the cold row of docs/performance.md). Lambda's own trace
    (Tracing: Active) still records each invocation and its init phase."""

    def capture_lambda_handler(self, handler: Handler) -> Handler:
        return handler


def make_tracer() -> HandlerTracer:
    """Powertools' Tracer, or NoTracer if tracing is disabled."""
    if resolve_truthy_env_var_choice(env=os.getenv(TRACER_DISABLED_ENV, "false")):
        return NoTracer()
    from aws_lambda_powertools import Tracer

    return cast(HandlerTracer, Tracer())


# Logs go to stderr: Lambda sends both streams to CloudWatch Logs, and local commands keep
# stdout for their answers. Metrics stay on stdout (Powertools' EMF default).
logger = Logger(stream=sys.stderr)
tracer = make_tracer()
metrics = Metrics()
#: Whether the handler emits the ColdStart metric. Powertools emits it (a separate EMF blob on
#: stdout) even with POWERTOOLS_METRICS_DISABLED, so the handler asks for it only when metrics
#: are on: local commands keep stdout for their answers.
COLD_START_METRIC = not resolve_truthy_env_var_choice(
    env=os.getenv("POWERTOOLS_METRICS_DISABLED", "false")
)


def count(name: str) -> None:
    """Count one event of metric `name`."""
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)


def record_lookup(*, hit: bool) -> None:
    """Count a model cache hit or miss."""
    metrics.add_metric(
        name="ModelCacheHit" if hit else "ModelCacheMiss", unit=MetricUnit.Count, value=1
    )


def record_load(bank: str, version: str, seconds: float) -> None:
    """Log and measure one model load from the store."""
    metrics.add_metric(name="ModelLoadTime", unit=MetricUnit.Milliseconds, value=seconds * 1000)
    logger.info(
        "model loaded", extra={"bank": bank, "version": version, "seconds": round(seconds, 3)}
    )
