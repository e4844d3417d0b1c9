"""Every refused version at the cache: the last good model keeps serving, a cold cache answers
ModelRejected, and the refused version's pickle is never read."""

from __future__ import annotations

from pathlib import Path

import pytest

from bankreco.domain.cache import Budget, ModelCache
from bankreco.domain.manifest import Manifest
from bankreco.domain.registry import Registry
from bankreco.errors import ModelRejected
from bankreco.observability import metrics
from tests.support.doubles import Clock, WatchedStore
from tests.support.tampering import CASES, Scene

Artifact = tuple[Manifest, dict[str, bytes]]


@pytest.fixture
def scene(
    tmp_path: Path, model_artifacts: list[Artifact], pickle_only_artifacts: Artifact
) -> Scene:
    registry = Registry(WatchedStore(tmp_path / "models"))
    return Scene(registry, "alpha", *model_artifacts, pickle_only_artifacts, tmp_path)


@pytest.mark.parametrize("case", list(CASES))
def test_a_refused_version_leaves_the_last_good_model_serving(scene: Scene, case: str) -> None:
    tamper, reason = CASES[case]
    clock = Clock()
    cache = ModelCache(scene.registry, 1, 10**9, clock, Budget(10, 10))
    good = scene.registry.publish("alpha", *scene.good)
    assert cache.get("alpha").version == good
    bad = tamper(scene)
    assert scene.registry.read_pointer("alpha").version == bad
    store = scene.store
    assert isinstance(store, WatchedStore)
    store.reads.clear()
    clock.now = 2
    assert cache.get("alpha").version == good
    assert metrics.metric_set["ModelRejected"]["Value"] == [1.0]
    cold = ModelCache(scene.registry, 1, 10**9, clock, Budget(10, 10))
    with pytest.raises(ModelRejected, match=reason):
        cold.get("alpha")
    assert cold.cached() == {}
    assert not any(key.endswith("model.pkl") for key in store.reads)
