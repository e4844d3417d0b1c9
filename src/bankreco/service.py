"""The process-wide service, built once from the settings on first use."""

from __future__ import annotations

from functools import cache

from bankreco.cache import ModelCache
from bankreco.recommender import Recommender
from bankreco.registry import Registry
from bankreco.settings import get_settings
from bankreco.store import open_store


@cache
def get_recommender() -> Recommender:
    """The recommender of this process; its model cache lives as long as the container."""
    settings = get_settings()
    registry = Registry(open_store(settings.model_store_uri, settings))
    cache_ = ModelCache(registry, settings.model_ttl_seconds, settings.model_cache_max_bytes)
    return Recommender(settings, cache_)


def reset() -> None:
    """Forget the settings and the cache (a new process, for tests and the CLI)."""
    get_settings.cache_clear()
    get_recommender.cache_clear()
