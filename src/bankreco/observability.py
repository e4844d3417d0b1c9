"""Logger, Tracer and Metrics of the service, configured by POWERTOOLS_* variables."""

from __future__ import annotations

import functools
import json
import os
import sys
import threading
import time
from collections.abc import Callable
from typing import Any, Final, Protocol, TypeVar, cast

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.metrics.functions import is_metrics_disabled
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


#: Answers counted by (bank, version, role) since the last flush; flushed at the end of each
#: invocation, or when this many are held (a caller that never flushes stays bounded).
_served: dict[tuple[str, str, str], int] = {}
_served_lock = threading.Lock()
SERVED_HELD: Final = 100


def record_served(bank: str, version: str, role: str, customers: int) -> None:
    """Count `customers` answered by `bank`'s `version` as its champion or challenger (`role`)."""
    with _served_lock:
        key = (bank, version, role)
        _served[key] = _served.get(key, 0) + customers
        full = len(_served) >= SERVED_HELD
    if full:
        flush_served()


def forget_served() -> None:
    """Drop the answers counted since the last flush without printing them: the state of a
    process that has answered nothing yet."""
    with _served_lock:
        _served.clear()


def flush_served() -> None:
    """Print the answers counted since the last flush as the metric AnswersServed, one EMF
    document per version (a document's dimensions hold one value each): by service, bank and
    version, and by service, bank and role."""
    with _served_lock:
        served = dict(_served)
        _served.clear()
    if is_metrics_disabled():
        return
    for (bank, version, role), customers in served.items():
        print(json.dumps(served_document(bank, version, role, customers), separators=(",", ":")))


def served_document(bank: str, version: str, role: str, customers: int) -> dict[str, Any]:
    """The EMF document of AnswersServed for one version, in the namespace and with the
    default dimensions of `metrics` (and its service), written directly: a Powertools
    provider would be built and validated for every document of every invocation."""
    shared = {**({"service": metrics.service} if metrics.service else {})}
    shared.update({str(k): str(v) for k, v in metrics.default_dimensions.items()})
    names = list(shared)
    return {
        "_aws": {
            "Timestamp": int(time.time() * 1000),
            "CloudWatchMetrics": [
                {
                    "Namespace": metrics.namespace,
                    "Dimensions": [[*names, "bank", "version"], [*names, "bank", "role"]],
                    "Metrics": [{"Name": "AnswersServed", "Unit": "Count"}],
                }
            ],
        },
        **shared,
        "bank": bank,
        "version": version,
        "role": role,
        "AnswersServed": [float(customers)],
    }


def log_metrics(handler: Callable[..., Any]) -> Callable[..., Any]:
    """Powertools' `log_metrics` (with the ColdStart metric when metrics are on), then the
    answers of each version served during the invocation. (Any arguments, as Powertools'
    decorator takes: the function file and the local runs pass their own contexts.)"""
    flushing = metrics.log_metrics(handler, capture_cold_start_metric=COLD_START_METRIC)

    @functools.wraps(handler)
    def invocation(*args: Any, **kwargs: Any) -> Any:
        try:
            return flushing(*args, **kwargs)
        finally:
            flush_served()

    return invocation
