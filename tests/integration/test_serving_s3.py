"""The real handler, real API Gateway events, models on a real HTTP S3 endpoint on loopback."""

from __future__ import annotations

import time

import boto3
import pytest

from bankreco.domain.manifest import Manifest
from bankreco.domain.registry import Registry
from bankreco.domain.service import get_recommender
from tests.conftest import Handler, api_event, example_body
from tests.integration.proxy import FaultyProxy

Artifacts = list[tuple[Manifest, dict[str, bytes]]]


def recommend(invoke: Handler, **extra: object) -> tuple[int, dict[str, object]]:
    status, body = invoke(api_event("POST", "/recommendations", {**example_body(2), **extra}))
    return status, body


def test_model_is_loaded_lazily_then_served_warm(
    invoke: Handler, serving_env: FaultyProxy, s3_registry: Registry, model_artifacts: Artifacts
) -> None:
    version = s3_registry.publish("alpha", *model_artifacts[0])
    assert get_recommender().cache.cached() == {}  # nothing fetched at start-up
    status, body = recommend(invoke)
    assert status == 200
    assert body["model_version"] == version
    assert len(body["recommendations"]) == 7  # type: ignore[arg-type]
    assert get_recommender().cache.cached() == {"alpha": version}
    serving_env.set_mode("down")  # a warm hit must not touch S3 at all
    status, again = recommend(invoke)
    assert (status, again) == (200, body)


def test_new_version_is_swapped_in_after_the_ttl(
    invoke: Handler,
    serving_env: FaultyProxy,
    s3_registry: Registry,
    model_artifacts: Artifacts,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ttl = 1.5  # wide enough for a publish on a busy machine to fit inside it
    monkeypatch.setenv("MODEL_TTL_SECONDS", str(ttl))
    first = s3_registry.publish("alpha", *model_artifacts[0])
    assert recommend(invoke)[1]["model_version"] == first
    second = s3_registry.publish("alpha", *model_artifacts[1])
    assert recommend(invoke)[1]["model_version"] == first  # still within the TTL
    time.sleep(ttl + 0.05)
    assert recommend(invoke)[1]["model_version"] == second
    s3_registry.set_current("alpha", first)  # rollback is just another pointer move
    time.sleep(ttl + 0.05)
    assert recommend(invoke)[1]["model_version"] == first


@pytest.mark.parametrize("fault", ["down", "hang"])
def test_store_failure_keeps_serving_the_cached_model(
    invoke: Handler,
    serving_env: FaultyProxy,
    s3_registry: Registry,
    model_artifacts: Artifacts,
    monkeypatch: pytest.MonkeyPatch,
    fault: str,
) -> None:
    monkeypatch.setenv("MODEL_TTL_SECONDS", "0")
    version = s3_registry.publish("alpha", *model_artifacts[0])
    assert recommend(invoke)[0] == 200
    serving_env.set_mode(fault)  # type: ignore[arg-type]
    started = time.perf_counter()
    status, body = recommend(invoke)
    assert (status, body["model_version"]) == (200, version)
    assert time.perf_counter() - started < 5  # bounded by the configured timeouts


@pytest.mark.parametrize("fault", ["down", "hang"])
def test_store_failure_without_cache_is_a_clear_503(
    invoke: Handler,
    serving_env: FaultyProxy,
    s3_registry: Registry,
    model_artifacts: Artifacts,
    fault: str,
) -> None:
    s3_registry.publish("alpha", *model_artifacts[0])
    serving_env.set_mode(fault)  # type: ignore[arg-type]
    status, body = recommend(invoke)
    assert status == 503
    assert body["error"]["code"] == "store_unavailable"  # type: ignore[index]
    assert "Traceback" not in str(body)


def _corrupt(registry: Registry, bank: str, version: str) -> None:
    """Overwrite every artifact of a version behind the registry's back."""
    bucket, prefix = registry.store.uri.removeprefix("s3://").split("/", 1)
    for name in ("model.pkl", "model.forest.npz"):
        key = f"{prefix}/{bank}/versions/{version}/{name}"
        boto3.client("s3").put_object(Bucket=bucket, Key=key, Body=b"\x80evil")


def test_corrupted_new_version_is_refused_and_the_old_one_kept(
    invoke: Handler,
    serving_env: FaultyProxy,
    s3_registry: Registry,
    model_artifacts: Artifacts,
    monkeypatch: pytest.MonkeyPatch,
    s3_endpoint: str,
) -> None:
    monkeypatch.setenv("MODEL_TTL_SECONDS", "0")
    good = s3_registry.publish("alpha", *model_artifacts[0])
    assert recommend(invoke)[1]["model_version"] == good
    bad = s3_registry.publish("alpha", *model_artifacts[1])
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", s3_endpoint)
    _corrupt(s3_registry, "alpha", bad)
    status, body = recommend(invoke)
    assert (status, body["model_version"]) == (200, good)


def test_corrupted_model_without_cache_is_never_served(
    invoke: Handler,
    serving_env: FaultyProxy,
    s3_registry: Registry,
    model_artifacts: Artifacts,
    monkeypatch: pytest.MonkeyPatch,
    s3_endpoint: str,
) -> None:
    version = s3_registry.publish("alpha", *model_artifacts[0])
    with monkeypatch.context() as patch:
        patch.setenv("AWS_ENDPOINT_URL_S3", s3_endpoint)
        _corrupt(s3_registry, "alpha", version)
    status, body = recommend(invoke)
    assert status == 503
    assert body["error"]["code"] == "model_integrity"  # type: ignore[index]
    assert "checksum" in body["error"]["message"]  # type: ignore[index]


def test_banks_unknown_allowed_and_unpublished(
    invoke: Handler, serving_env: FaultyProxy, s3_registry: Registry, model_artifacts: Artifacts
) -> None:
    s3_registry.publish("alpha", *model_artifacts[0])
    beta = s3_registry.publish("beta", *model_artifacts[1])
    assert recommend(invoke, bank="beta")[1]["model_version"] == beta
    status, body = recommend(invoke, bank="gamma")
    assert (status, body["error"]["code"]) == (404, "unknown_bank")  # type: ignore[index]
    s3_registry.store.write("beta/current.json", b'{"version": "v20990101T000000000Z-deadbeef"}')
    get_recommender.cache_clear()
    status, body = recommend(invoke, bank="beta")
    assert status == 503  # pointer names a version that does not exist


def test_no_model_published_is_a_clear_503(invoke: Handler, serving_env: FaultyProxy) -> None:
    status, body = recommend(invoke)
    assert status == 503
    assert body["error"]["code"] == "model_not_published"  # type: ignore[index]
    assert "alpha" in body["error"]["message"]  # type: ignore[index]


def test_models_current_reports_the_served_version(
    invoke: Handler, serving_env: FaultyProxy, s3_registry: Registry, model_artifacts: Artifacts
) -> None:
    version = s3_registry.publish("alpha", *model_artifacts[0])
    status, body = invoke(api_event("GET", "/models/current"))
    assert status == 200
    assert body["model_version"] == version
    assert body["bank"] == "alpha"
    assert body["sha256"] == model_artifacts[0][0].model_sha256
    status, body = invoke(api_event("GET", "/models/current", query={"bank": "Nope!"}))
    assert status == 400


def test_after_restore_the_s3_store_is_new_and_keeps_serving(
    invoke: Handler, serving_env: FaultyProxy, s3_registry: Registry, model_artifacts: Artifacts
) -> None:
    """SnapStart's hook builds a new client (new connections) from the process's one botocore
    session, which keeps the parsed S3 model; the renewed store reads the endpoint."""
    from bankreco.api.lifecycle import renew_after_restore

    s3_registry.publish("alpha", *model_artifacts[0])
    assert recommend(invoke)[0] == 200
    cache = get_recommender().cache
    before = cache.store
    renew_after_restore()
    after = cache.store
    assert after is not before
    assert after._client is not before._client  # type: ignore[attr-defined]
    assert after._client._loader is before._client._loader  # type: ignore[attr-defined]
    assert after.read("alpha/current.json") is not None
