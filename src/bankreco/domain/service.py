"""The process-wide service, built once from the settings on first use."""

from __future__ import annotations

import gc
import os
import random
from functools import cache
from typing import Final

from bankreco.cache import ModelCache
from bankreco.errors import BankrecoError
from bankreco.observability import logger
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


def initialize() -> None:
    """Init-phase work (full CPU, before any request or SnapStart snapshot): the settings, the
    store client and, with PRELOAD_MODEL, the stage's own model; then the garbage collector is
    set for serving. A model that cannot be loaded does not fail the init (the first request
    answers a clear 503); settings or a store that cannot be built do."""
    recommender = get_recommender()
    if recommender.settings.preload_model:
        try:
            recommender.cache.get(recommender.settings.bank_id)
        except BankrecoError as exc:
            logger.warning("model not preloaded", extra={"reason": str(exc)})
    settle_garbage_collector()


#: Objects a request may leave alive before a young collection: a batch's 1,000 profiles and
#: their parts stay under it, so no collection runs while they are being built.
GC_YOUNG_THRESHOLD: Final = 50_000


@cache  # once per process: a second freeze would also pin whatever garbage came since
def settle_garbage_collector() -> None:
    """Keep what the init phase made (modules, the model) out of every later collection,
    which would otherwise walk all of it, and let a request allocate without young
    collections (a batch triggered several). The init phase runs without collections, so the
    little garbage it left (hundreds of objects) is frozen with it, once."""
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(GC_YOUNG_THRESHOLD, middle, old)


def renew_after_restore() -> None:
    """After a SnapStart restore: new S3 connections and fresh random state; the models stay."""
    recommender = get_recommender()
    settings = recommender.settings
    recommender.cache.registry.store = open_store(settings.model_store_uri, settings)
    random.seed(os.urandom(16))


def reset() -> None:
    """Forget the settings and the cache (a new process, for tests and the CLI)."""
    get_settings.cache_clear()
    get_recommender.cache_clear()
