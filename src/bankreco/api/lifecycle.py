"""The Lambda execution environment's phases: init, and restore from a SnapStart snapshot."""

from __future__ import annotations

import gc
import os
import random
from functools import cache
from typing import Final

from bankreco.domain import service

#: Objects a request may leave alive before a young collection: a batch's 1,000 profiles and
#: their parts stay under it, so no collection runs while they are being built.
GC_YOUNG_THRESHOLD: Final = 50_000


def initialize() -> None:
    """Init-phase work (full CPU, before any request or SnapStart snapshot): the settings, the
    store client and, with PRELOAD_MODEL, the stage's own model; then the garbage collector is
    set for serving. A model that cannot be loaded does not fail the init (the first request
    answers a clear 503); settings or a store that cannot be built do."""
    service.get_recommender()
    service.preload()
    settle_garbage_collector()


@cache  # once per process: a second freeze would also pin whatever garbage came since
def settle_garbage_collector() -> None:
    """Keep what the init phase made (modules, the model) out of every later collection,
    which would otherwise walk all of it, and let a request allocate without young
    collections. The init phase runs without collections, so the little garbage it left is
    frozen with it, once."""
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(GC_YOUNG_THRESHOLD, middle, old)


def renew_after_restore() -> None:
    """After a SnapStart restore: new store connections and fresh random state; the models
    stay."""
    service.reconnect()
    random.seed(os.urandom(16))
