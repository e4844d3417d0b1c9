"""The cache's time budget and its memory of bad versions: no request waits on a slow store
for longer than the budget, and a version found bad is not fetched again."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from bankreco.domain.cache import Budget, ModelCache
from bankreco.domain.manifest import Manifest
from bankreco.domain.registry import Registry
from bankreco.errors import IntegrityError, StoreError
from tests.support.doubles import Clock, WatchedStore

Artifacts = list[tuple[Manifest, dict[str, bytes]]]


@pytest.fixture
def store(tmp_path: Path) -> WatchedStore:
    return WatchedStore(tmp_path)


def test_a_cold_request_gets_a_store_error_within_the_budget_and_the_load_goes_on(
    store: WatchedStore, model_artifacts: Artifacts
) -> None:
    version = Registry(store).publish("alpha", *model_artifacts[0])
    cache = ModelCache(Registry(store), 60, 10**9, Clock(), Budget(load_timeout=0.2))
    store.gate.clear()
    started = time.monotonic()
    with pytest.raises(StoreError, match=r"did not answer within 0\.2 s"):
        cache.get("alpha")
    assert time.monotonic() - started < 1.0
    store.gate.set()
    deadline = time.monotonic() + 10
    while not cache.cached() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert cache.cached() == {"alpha": version}  # the load finished for the next request


def test_a_slow_revalidation_is_answered_from_the_cache(
    store: WatchedStore, model_artifacts: Artifacts
) -> None:
    registry = Registry(store)
    first = registry.publish("alpha", *model_artifacts[0])
    clock = Clock()
    cache = ModelCache(Registry(store), 1, 10**9, clock, Budget(refresh_wait=0.1))
    assert cache.get("alpha").version == first
    second = registry.publish("alpha", *model_artifacts[1])
    store.gate.clear()
    clock.now = 5
    started = time.monotonic()
    assert cache.get("alpha").version == first  # stale, not late
    assert time.monotonic() - started < 1.0
    store.gate.set()
    deadline = time.monotonic() + 10
    while cache.cached()["alpha"] != second and time.monotonic() < deadline:
        time.sleep(0.01)
    assert cache.get("alpha").version == second


def test_a_bad_version_is_remembered_and_not_fetched_again(
    store: WatchedStore, model_artifacts: Artifacts
) -> None:
    registry = Registry(store)
    good = registry.publish("alpha", *model_artifacts[0])
    clock = Clock()
    cache = ModelCache(Registry(store), 1, 10**9, clock, Budget(10, 10))
    cache.get("alpha")
    bad = registry.publish("alpha", *model_artifacts[1])
    store.write(f"alpha/versions/{bad}/model.forest.npz", b"tampered")
    store.reads.clear()
    for now in (2, 4, 6, 8):
        clock.now = now
        assert cache.get("alpha").version == good
    fetched = [key for key in store.reads if f"/{bad}/" in key]
    assert len([key for key in fetched if key.endswith("manifest.json")]) == 1
    cold = ModelCache(Registry(store), 1, 10**9, clock, Budget(10, 10))
    with pytest.raises(IntegrityError):
        cold.get("alpha")
    store.reads.clear()
    with pytest.raises(IntegrityError):
        cold.get("alpha")  # refused again from memory: only the pointer is read
    assert store.reads == ["alpha/current.json"]


def test_a_store_error_is_not_remembered(store: WatchedStore, model_artifacts: Artifacts) -> None:
    version = Registry(store).publish("alpha", *model_artifacts[0])
    cache = ModelCache(Registry(store), 60, 10**9, Clock(), Budget(load_timeout=0.1))
    store.gate.clear()
    with pytest.raises(StoreError):
        cache.get("alpha")
    store.gate.set()
    cache2 = ModelCache(Registry(store), 60, 10**9, Clock(), Budget(10, 10))
    assert cache2.get("alpha").version == version


def test_sixteen_threads_share_one_load_and_one_refresh(
    store: WatchedStore, model_artifacts: Artifacts
) -> None:
    registry = Registry(store)
    registry.publish("alpha", *model_artifacts[0])
    clock = Clock()
    cache = ModelCache(Registry(store), 1, 10**9, clock, Budget(10, 10))
    store.reads.clear()
    store.gate.clear()
    versions: list[str] = []
    threads = [
        threading.Thread(target=lambda: versions.append(cache.get("alpha").version))
        for _ in range(16)
    ]
    for thread in threads:
        thread.start()
    time.sleep(0.1)
    store.gate.set()
    for thread in threads:
        thread.join()
    assert len(versions) == 16
    assert len(set(versions)) == 1
    assert len(store.reads) == 4  # pointer, manifest, signature, compact form: once
    second = registry.publish("alpha", *model_artifacts[1])
    store.reads.clear()
    clock.now = 5
    threads = [threading.Thread(target=cache.get, args=("alpha",)) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert cache.cached() == {"alpha": second}
    assert store.reads.count("alpha/current.json") == 1


def test_preload_gives_up_within_its_timeout(
    store: WatchedStore, model_artifacts: Artifacts
) -> None:
    Registry(store).publish("alpha", *model_artifacts[0])
    cache = ModelCache(Registry(store), 60, 10**9, Clock(), Budget(10, 10))
    store.gate.clear()
    started = time.monotonic()
    with pytest.raises(StoreError):
        cache.preload("alpha", timeout=0.2)
    assert time.monotonic() - started < 1.0
    store.gate.set()
    assert cache.get("alpha").version  # the first request finds the load done or waits for it


def test_reading_a_versions_file_waits_at_most_the_budget(
    store: WatchedStore, model_artifacts: Artifacts
) -> None:
    manifest, files = model_artifacts[0]
    card = b"# Model card\n"
    version = Registry(store).publish(
        "alpha", manifest.with_card(card), {**files, "model_card.md": card}
    )
    cache = ModelCache(Registry(store), 60, 10**9, Clock(), Budget(load_timeout=0.2))
    assert cache.read_file("alpha", version, "model_card.md") == card
    store.gate.clear()
    started = time.monotonic()
    with pytest.raises(StoreError, match=r"did not answer within 0\.2 s"):
        cache.read_file("alpha", version, "model_card.md")
    assert time.monotonic() - started < 1.0
    store.gate.set()
