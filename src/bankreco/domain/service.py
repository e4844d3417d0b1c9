"""The process-wide recommender, built once from the settings on first use."""

from __future__ import annotations

from functools import cache

from bankreco.domain.cache import Budget, ModelCache
from bankreco.domain.recommender import Recommender
from bankreco.domain.registry import Policy, Registry
from bankreco.errors import BankrecoError
from bankreco.observability import logger
from bankreco.settings import Settings, get_settings, use_settings
from bankreco.signing.keys import KeyRing
from bankreco.store import ModelStore, open_store


def open_settings_store(settings: Settings) -> ModelStore:
    """The model store the settings name, with their S3 client options."""
    return open_store(settings.model_store_uri, settings.s3_options)


@cache
def get_recommender() -> Recommender:
    """The recommender of this process; its model cache lives as long as the process."""
    settings = get_settings()
    registry = Registry(
        open_settings_store(settings),
        KeyRing.from_settings(settings),
        Policy.from_settings(settings),
    )
    budget = Budget(settings.model_load_timeout, settings.model_refresh_wait)
    cache_ = ModelCache(
        registry, settings.model_ttl_seconds, settings.model_cache_max_bytes, budget=budget
    )
    return Recommender(settings, cache_)


def preload() -> None:
    """Load the stage's own model into the cache if PRELOAD_MODEL asks for it, waiting at most
    PRELOAD_TIMEOUT seconds (well inside Lambda's init limit). A model that cannot be loaded
    in time is logged and left to the first request."""
    recommender = get_recommender()
    if not recommender.settings.preload_model:
        return
    try:
        recommender.cache.preload(
            recommender.settings.bank_id, recommender.settings.preload_timeout
        )
    except BankrecoError as exc:
        logger.warning("model not preloaded", extra={"reason": str(exc)})


def reconnect() -> None:
    """New store connections for the process's recommender; the cached models stay."""
    recommender = get_recommender()
    recommender.cache.reconnect(open_settings_store(recommender.settings))


def configure(settings: Settings | None) -> None:
    """Serve with `settings` from now on (None: the environment's, read on next use); the
    recommender and its cache are built anew."""
    use_settings(settings)
    get_recommender.cache_clear()


def reset() -> None:
    """Forget the settings and the recommender: the next use reads the environment again."""
    configure(None)
