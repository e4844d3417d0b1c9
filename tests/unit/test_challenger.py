"""Champion and challenger in the domain: the pointer, the registry's moves, the stable split
of customers, the cache holding both models, and the answers counted per version."""

from __future__ import annotations

import json
import logging
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bankreco import observability
from bankreco.domain.cache import Budget, ModelCache
from bankreco.domain.manifest import CARD_FILE, Manifest
from bankreco.domain.recommender import Ranked, Recommender
from bankreco.domain.registry import Challenger, Registry
from bankreco.domain.traffic import BUCKETS, bucket, to_challenger
from bankreco.errors import IntegrityError, ModelNotPublished, StoreError
from bankreco.observability import metrics
from bankreco.settings import Settings
from bankreco.store import Blob
from tests.support.doubles import Clock, WatchedStore
from tests.unit.test_recommender import Customer

Artifact = tuple[Manifest, dict[str, bytes]]
Artifacts = list[Artifact]
IDS = [f"C-{n:06d}" for n in range(10_000)]


@pytest.fixture
def store(tmp_path: Path) -> WatchedStore:
    return WatchedStore(tmp_path / "models")


@pytest.fixture
def registry(store: WatchedStore) -> Registry:
    return Registry(store)


def pointer_body(store: WatchedStore, bank: str = "alpha") -> dict[str, Any]:
    return dict(json.loads(store.read(f"{bank}/current.json").data))


def make_cache(store: WatchedStore, clock: Clock, ttl: float = 60) -> ModelCache:
    return ModelCache(Registry(store), ttl, 10**9, clock, Budget(10, 10))


# The pointer


def test_a_pointer_without_a_challenger_reads_as_before(
    registry: Registry, store: WatchedStore, model_artifacts: Artifacts
) -> None:
    version = registry.publish("alpha", *model_artifacts[0])
    store.write("alpha/current.json", json.dumps({"version": version}).encode())
    pointer = registry.read_pointer("alpha")
    assert (pointer.version, pointer.challenger) == (version, None)


@pytest.mark.parametrize(
    "challenger",
    [
        {"version": "v20990101T000000000Z-deadbeef", "share": 0},
        {"version": "v20990101T000000000Z-deadbeef", "share": 100},
        {"version": "v20990101T000000000Z-deadbeef", "share": -5},
        {"version": "v20990101T000000000Z-deadbeef", "share": "10"},
        {"version": "v20990101T000000000Z-deadbeef", "share": True},
        {"version": "v20990101T000000000Z-deadbeef"},
        {"version": "../../beta", "share": 10},
        {"share": 10},
        "v20990101T000000000Z-deadbeef",
    ],
)
def test_a_malformed_challenger_makes_the_pointer_invalid(
    registry: Registry, store: WatchedStore, model_artifacts: Artifacts, challenger: object
) -> None:
    version = registry.publish("alpha", *model_artifacts[0])
    body = {"version": version, "challenger": challenger}
    store.write("alpha/current.json", json.dumps(body).encode())
    with pytest.raises(IntegrityError, match="not a valid pointer"):
        registry.read_pointer("alpha")


def test_a_challenger_naming_the_champion_makes_the_pointer_invalid(
    registry: Registry, store: WatchedStore, model_artifacts: Artifacts
) -> None:
    version = registry.publish("alpha", *model_artifacts[0])
    body = {"version": version, "challenger": {"version": version, "share": 10}}
    store.write("alpha/current.json", json.dumps(body).encode())
    with pytest.raises(IntegrityError, match="its challenger is its champion"):
        registry.read_pointer("alpha")


# The registry's moves


def test_publish_as_challenger_keeps_the_champion_and_writes_the_share(
    registry: Registry, store: WatchedStore, model_artifacts: Artifacts
) -> None:
    champion = registry.publish("alpha", *model_artifacts[0])
    challenger = registry.publish("alpha", *model_artifacts[1], challenger_share=10)
    body = pointer_body(store)
    assert body["version"] == champion
    assert body["challenger"] == {"version": challenger, "share": 10}  # 10, not 10.0
    assert registry.read_pointer("alpha").challenger == Challenger(challenger, 10.0)
    assert registry.set_share("alpha", 2.5) == champion
    assert pointer_body(store)["challenger"] == {"version": challenger, "share": 2.5}


def test_a_challenger_needs_a_champion_and_a_valid_share_before_any_upload(
    registry: Registry, model_artifacts: Artifacts
) -> None:
    with pytest.raises(ModelNotPublished, match="no champion"):
        registry.publish("alpha", *model_artifacts[1], challenger_share=10)
    assert registry.versions("alpha") == []
    champion = registry.publish("alpha", *model_artifacts[0])
    for share in (0, 100, -1, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="above 0 and below 100"):
            registry.publish("alpha", *model_artifacts[1], challenger_share=share)
    assert registry.versions("alpha") == [champion]
    with pytest.raises(ValueError, match="is the champion already"):
        registry.set_challenger("alpha", champion, 10)


def test_promote_and_rollback_leave_one_champion_and_no_challenger(
    registry: Registry, store: WatchedStore, model_artifacts: Artifacts
) -> None:
    first = registry.publish("alpha", *model_artifacts[0])
    second = registry.publish("alpha", *model_artifacts[1], challenger_share=10)
    assert registry.promote("alpha") == second
    assert "challenger" not in pointer_body(store)
    assert registry.read_pointer("alpha").version == second
    with pytest.raises(ValueError, match="has no challenger"):
        registry.promote("alpha")
    registry.set_challenger("alpha", first, 30)
    registry.set_current("alpha", first)  # rollback: the challenger goes with it
    pointer = registry.read_pointer("alpha")
    assert (pointer.version, pointer.challenger) == (first, None)


def test_listing_shows_the_split(registry: Registry, model_artifacts: Artifacts) -> None:
    first = registry.publish("alpha", *model_artifacts[0])
    second = registry.publish("alpha", *model_artifacts[1])
    third = registry.publish("alpha", *model_artifacts[0], challenger_share=12.5)
    rows = [(v.version, v.current, v.challenger, v.traffic) for v in registry.listing("alpha")]
    assert rows == [
        (first, False, False, 0.0),
        (second, True, False, 87.5),
        (third, False, True, 12.5),
    ]


def test_read_file_gives_a_verified_artifact_and_refuses_a_tampered_card(
    registry: Registry, store: WatchedStore, model_artifacts: Artifacts
) -> None:
    manifest, files = model_artifacts[0]
    card = b"# Model card\n\nIntended use: ranking products.\n"
    version = registry.publish("alpha", manifest.with_card(card), {**files, CARD_FILE: card})
    assert registry.read_file("alpha", version, CARD_FILE) == card
    assert registry.read_file("alpha", version, "model.forest.npz") == files["model.forest.npz"]
    with pytest.raises(IntegrityError, match="not a file of"):
        registry.read_file("alpha", version, "model.sig")
    store.write(f"alpha/versions/{version}/{CARD_FILE}", card.replace(b"ranking", b"lending"))
    with pytest.raises(IntegrityError, match=f"{CARD_FILE} checksum mismatch"):
        registry.read_file("alpha", version, CARD_FILE)


# The split of customers


def test_the_bucket_of_a_customer_is_fixed_in_every_process() -> None:
    # sha256(b"alpha:C-1")'s first 8 bytes, big-endian, modulo 10,000
    assert (bucket("alpha", "C-1"), bucket("alpha", "C-2"), bucket("beta", "C-1")) == (
        5049,
        1318,
        2318,
    )
    code = "from bankreco.domain.traffic import bucket; print([bucket('alpha', f'C-{n}') for n in range(200)])"  # noqa: E501
    seen = set()
    for seed in ("1", "2"):  # Python's own hash() would differ between these
        done = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            env={"PYTHONHASHSEED": seed, "PATH": ""},
        )
        seen.add(done.stdout)
    assert seen == {f"{[bucket('alpha', f'C-{n}') for n in range(200)]}\n"}


@pytest.mark.parametrize(("share", "tolerance"), [(10, 1.0), (2.5, 0.5), (50, 1.5)])
def test_customer_ids_split_at_the_share_within_tolerance(share: float, tolerance: float) -> None:
    """Binomial: the tolerance is over 3 standard deviations at 10,000 customers."""
    routed = [to_challenger("alpha", customer, share) for customer in IDS]
    assert abs(100 * sum(routed) / len(IDS) - share) <= tolerance
    assert routed == [to_challenger("alpha", customer, share) for customer in IDS]
    assert {bucket("alpha", customer) // 1000 for customer in IDS} == set(range(BUCKETS // 1000))


def test_a_customer_routed_to_the_challenger_stays_there_when_the_share_grows() -> None:
    at_10 = {c for c in IDS if to_challenger("alpha", c, 10)}
    at_25 = {c for c in IDS if to_challenger("alpha", c, 25)}
    assert at_10 < at_25


def test_customers_without_an_id_split_at_random_within_tolerance() -> None:
    draw = random.Random(13).random
    routed = [to_challenger("alpha", None, 10, draw) for _ in range(10_000)]
    assert abs(100 * sum(routed) / len(routed) - 10) <= 1.0
    assert 0 < sum(routed[:1000]) < 1000  # not one fixed answer


# The recommender and the cache


@pytest.fixture
def recommender(store: WatchedStore) -> Recommender:
    settings = Settings(bank_id="alpha", allowed_banks=frozenset({"beta"}))
    return Recommender(settings, make_cache(store, Clock()), random.Random(5).random)


def test_a_batch_is_split_by_route_and_each_part_names_its_version(
    recommender: Recommender, registry: Registry, model_artifacts: Artifacts
) -> None:
    champion = registry.publish("alpha", *model_artifacts[0])
    challenger = registry.publish("alpha", *model_artifacts[1], challenger_share=10)
    profiles = [(i, Customer(customer_id=c)) for i, c in enumerate(IDS)]
    groups = list(recommender.recommend_each(profiles))
    versions = {g.outcome.version: g.indexes for g in groups if isinstance(g.outcome, Ranked)}
    assert sorted(versions) == sorted([champion, challenger])
    assert sorted(versions[champion] + versions[challenger]) == list(range(len(IDS)))
    assert abs(len(versions[challenger]) / 100 - 10) <= 1.0
    expected = [i for i, c in enumerate(IDS) if to_challenger("alpha", c, 10)]
    assert versions[challenger] == expected
    for i in expected[:5] + versions[champion][:5]:  # one at a time: the same route
        again = recommender.recommend(Customer(customer_id=IDS[i]))
        assert again.version == (challenger if i in expected else champion)


def test_answers_are_counted_per_version_as_valid_emf(
    recommender: Recommender,
    registry: Registry,
    model_artifacts: Artifacts,
    capsys: pytest.CaptureFixture[str],
) -> None:
    champion = registry.publish("alpha", *model_artifacts[0])
    challenger = registry.publish("alpha", *model_artifacts[1], challenger_share=50)
    observability.flush_served()  # what earlier tests left
    capsys.readouterr()
    profiles = [(i, Customer(customer_id=c)) for i, c in enumerate(IDS[:300])]
    sizes = {g.outcome.version: len(g.indexes) for g in recommender.recommend_each(profiles)}
    recommender.recommend(Customer())  # no id: drawn at random
    observability.flush_served()
    documents = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    served = {(d["version"], d["role"]): d["AnswersServed"] for d in documents}
    assert sum(sum(v) for v in served.values()) == 301
    assert served[(challenger, "challenger")][0] >= sizes[challenger]
    assert served[(champion, "champion")][0] >= sizes[champion]
    for document in documents:
        (directive,) = document["_aws"]["CloudWatchMetrics"]
        assert directive["Namespace"] == "Bankreco"
        assert directive["Metrics"] == [{"Name": "AnswersServed", "Unit": "Count"}]
        names = {name for dimensions in directive["Dimensions"] for name in dimensions}
        assert names == {"service", "bank", "version", "role"}
        assert all(len(dimensions) <= 29 for dimensions in directive["Dimensions"])
        assert all(isinstance(document[name], str) for name in names)
        assert document["bank"] == "alpha"


def test_no_answers_are_printed_with_metrics_disabled(
    recommender: Recommender,
    registry: Registry,
    model_artifacts: Artifacts,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    registry.publish("alpha", *model_artifacts[0])
    recommender.recommend(Customer())
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    observability.flush_served()
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED")
    observability.flush_served()  # the counts went with the disabled flush
    assert capsys.readouterr().out == ""


def test_the_cache_holds_both_and_a_promoted_challenger_is_not_fetched_again(
    store: WatchedStore, registry: Registry, model_artifacts: Artifacts
) -> None:
    clock = Clock()
    cache = make_cache(store, clock, ttl=1)
    champion = registry.publish("alpha", *model_artifacts[0])
    challenger = registry.publish("alpha", *model_artifacts[1], challenger_share=10)
    store.reads.clear()
    serving = cache.serving("alpha")
    assert (serving.champion.version, serving.share) == (champion, 10.0)
    assert serving.challenger is not None
    assert serving.challenger.version == challenger
    assert len(store.reads) == 7  # the pointer, then manifest, signature, artifact of each
    assert serving.nbytes == serving.champion.nbytes + serving.challenger.nbytes
    assert cache.get("alpha").version == champion
    registry.promote("alpha")
    store.reads.clear()
    clock.now = 2
    promoted = cache.serving("alpha")
    assert (promoted.champion.version, promoted.challenger) == (challenger, None)
    assert store.reads == ["alpha/current.json"]  # the model was in memory already
    assert cache.cached() == {"alpha": challenger}


def test_a_challenger_that_fails_verification_is_refused_and_the_champion_serves_all(
    store: WatchedStore,
    registry: Registry,
    model_artifacts: Artifacts,
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = Clock()
    cache = make_cache(store, clock, ttl=1)
    champion = registry.publish("alpha", *model_artifacts[0])
    assert cache.get("alpha").version == champion
    bad = registry.publish("alpha", *model_artifacts[1], challenger_share=10)
    store.write(f"alpha/versions/{bad}/model.forest.npz", b"tampered")
    metrics.clear_metrics()
    clock.now = 2
    serving = cache.serving("alpha")
    assert (serving.champion.version, serving.challenger, serving.share) == (champion, None, 0.0)
    assert metrics.metric_set["ChallengerRefused"]["Value"] == [1.0]
    assert metrics.metric_set["ModelVersionRefused"]["Value"] == [1.0]
    warned = [r for r in caplog.records if r.getMessage().startswith("challenger not served")]
    assert warned
    assert warned[0].levelno == logging.WARNING
    body = {"version": champion, "challenger": {"version": bad, "share": 20}}
    store.write("alpha/current.json", json.dumps(body).encode())  # the bad one is remembered
    store.reads.clear()
    clock.now = 4
    assert cache.serving("alpha").challenger is None
    assert not [key for key in store.reads if bad in key]


class FlakyStore(WatchedStore):
    """A local store that cannot give the files of the versions in `failing`."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.failing: set[str] = set()

    def read(self, key: str) -> Blob:
        if any(version in key for version in self.failing):
            raise StoreError(f"cannot read {key}")
        return super().read(key)


def test_a_challenger_the_store_failed_to_give_is_tried_again_at_revalidation(
    tmp_path: Path, model_artifacts: Artifacts
) -> None:
    store = FlakyStore(tmp_path / "flaky")
    registry = Registry(store)
    clock = Clock()
    cache = make_cache(store, clock, ttl=1)
    champion = registry.publish("alpha", *model_artifacts[0])
    challenger = registry.publish("alpha", *model_artifacts[1], challenger_share=10)
    store.failing = {challenger}
    serving = cache.serving("alpha")
    assert (serving.champion.version, serving.challenger) == (champion, None)
    store.failing = set()
    clock.now = 2  # the pointer is unchanged, yet read in full: the challenger loads
    serving = cache.serving("alpha")
    assert serving.challenger is not None
    assert serving.challenger.version == challenger
    store.reads.clear()
    clock.now = 4  # complete again: back to conditional reads and nothing fetched
    assert cache.serving("alpha").challenger is serving.challenger
    assert store.reads == ["alpha/current.json"]


def test_rollback_drops_the_challenger_from_the_cache_at_revalidation(
    store: WatchedStore, registry: Registry, model_artifacts: Artifacts
) -> None:
    clock = Clock()
    cache = make_cache(store, clock, ttl=1)
    champion = registry.publish("alpha", *model_artifacts[0])
    registry.publish("alpha", *model_artifacts[1], challenger_share=10)
    assert cache.serving("alpha").challenger is not None
    registry.set_current("alpha", champion)
    clock.now = 2
    serving = cache.serving("alpha")
    assert (serving.champion.version, serving.challenger) == (champion, None)
