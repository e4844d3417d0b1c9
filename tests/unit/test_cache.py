"""The warm model cache: lazy, TTL revalidation, last good model, LRU by bytes, single flight."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from bankreco.domain.cache import Budget, ModelCache
from bankreco.domain.forest import CompiledForest
from bankreco.domain.manifest import Manifest
from bankreco.domain.registry import Registry
from bankreco.errors import IntegrityError, ModelNotPublished, ModelRejected, StoreError
from tests.support.doubles import Clock, WatchedStore

Artifact = tuple[Manifest, dict[str, bytes]]
Artifacts = list[Artifact]


@pytest.fixture
def store(tmp_path: Path) -> WatchedStore:
    return WatchedStore(tmp_path)


def make_cache(
    store: WatchedStore, clock: Clock, ttl: float = 60, max_bytes: int = 10**9
) -> ModelCache:
    # Generous waits: these tests check what a load or refresh does, not how long it may take.
    return ModelCache(Registry(store), ttl, max_bytes, clock, Budget(10, 10))


def test_loads_once_and_revalidates_only_after_the_ttl(
    store: WatchedStore, model_artifacts: Artifacts
) -> None:
    clock = Clock()
    cache = make_cache(store, clock)
    version = Registry(store).publish("alpha", *model_artifacts[0])
    store.reads.clear()
    assert cache.get("alpha").version == version
    assert len(store.reads) == 4  # pointer, manifest, signature, compact form
    clock.now = 59
    cache.get("alpha")
    assert len(store.reads) == 4
    clock.now = 61
    assert cache.get("alpha").version == version
    assert store.reads[4:] == ["alpha/current.json"]  # a conditional read, nothing else


def test_new_version_swaps_and_a_bad_one_is_refused(
    store: WatchedStore, model_artifacts: Artifacts
) -> None:
    clock = Clock()
    cache = make_cache(store, clock, ttl=1)
    registry = Registry(store)
    first = registry.publish("alpha", *model_artifacts[0])
    cache.get("alpha")
    second = registry.publish("alpha", *model_artifacts[1])
    clock.now = 2
    assert cache.get("alpha").version == second
    third = registry.publish("alpha", *model_artifacts[0])
    store.write(f"alpha/versions/{third}/model.forest.npz", b"tampered")
    clock.now = 4
    assert cache.get("alpha").version == second  # failed check: keep the last good one
    assert first != second


def test_store_down_keeps_the_cached_model_but_fails_cold(
    store: WatchedStore, model_artifacts: Artifacts
) -> None:
    clock = Clock()
    cache = make_cache(store, clock, ttl=0)
    version = Registry(store).publish("alpha", *model_artifacts[0])
    cache.get("alpha")
    store.down = True
    assert cache.get("alpha").version == version
    with pytest.raises(StoreError):
        make_cache(store, clock).get("alpha")


def test_missing_and_corrupted_models_raise_clear_errors(
    store: WatchedStore, model_artifacts: Artifacts
) -> None:
    cache = make_cache(store, Clock())
    with pytest.raises(ModelNotPublished):
        cache.get("alpha")
    version = Registry(store).publish("alpha", *model_artifacts[0])
    for name in model_artifacts[0][1]:
        store.write(f"alpha/versions/{version}/{name}", b"\x80\x04junk")
    with pytest.raises(IntegrityError, match="checksum"):
        cache.get("alpha")
    assert cache.cached() == {}


def test_least_recently_used_bank_is_evicted_by_bytes(
    store: WatchedStore, model_artifacts: Artifacts
) -> None:
    registry = Registry(store)
    for bank in ("a", "b", "c"):
        registry.publish(bank, *model_artifacts[0])
    size = len(model_artifacts[0][1]["model.forest.npz"])
    cache = make_cache(store, Clock(), max_bytes=2 * size)
    cache.get("a")
    cache.get("b")
    cache.get("a")  # b is now the least recently used
    cache.get("c")
    assert list(cache.cached()) == ["a", "c"]


def test_concurrent_first_requests_load_once(
    store: WatchedStore, model_artifacts: Artifacts
) -> None:
    Registry(store).publish("alpha", *model_artifacts[0])
    store.reads.clear()
    store.delay = 0.05
    cache = make_cache(store, Clock())
    threads = [threading.Thread(target=cache.get, args=("alpha",)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(store.reads) == 4


def test_compact_form_is_served_and_a_pickle_is_never_read(
    store: WatchedStore, model_artifacts: Artifacts, pickle_only_artifacts: Artifact
) -> None:
    registry = Registry(store)
    registry.publish("fast", *model_artifacts[0])
    registry.publish("generic", *pickle_only_artifacts)
    cache = make_cache(store, Clock())
    store.reads.clear()
    fast = cache.get("fast")
    assert type(fast.estimator) is CompiledForest
    with pytest.raises(ModelRejected, match="no compact form"):
        cache.get("generic")
    assert not any(key.endswith("model.pkl") for key in store.reads)
    assert cache.cached() == {"fast": fast.version}
