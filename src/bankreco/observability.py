"""Logger, Tracer and Metrics of the service, configured by POWERTOOLS_* variables."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit

logger = Logger()
tracer = Tracer()
metrics = Metrics()


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
