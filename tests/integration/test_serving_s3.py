"""The real handler, real API Gateway events, models on a real HTTP S3 endpoint on loopback,
signed with local keys or through KMS on the same moto endpoint."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import boto3
import pytest

from bankreco.domain import service
from bankreco.domain.manifest import Manifest
from bankreco.domain.registry import Policy, Registry
from bankreco.domain.service import get_recommender
from bankreco.errors import ObjectExists
from bankreco.signing.keys import KeyRing
from bankreco.signing.statement import SIGNATURE_FILE
from bankreco.store import open_store
from tests.conftest import Handler, api_event, example_body
from tests.integration.proxy import FaultyProxy
from tests.support.tampering import CASES, Scene

Artifact = tuple[Manifest, dict[str, bytes]]
Artifacts = list[Artifact]


def recommend(invoke: Handler, **extra: object) -> tuple[int, dict[str, object]]:
    status, body = invoke(api_event("POST", "/recommendations", {**example_body(2), **extra}))
    return status, body


def reasons(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Why each request was refused, as logged (a 503's body keeps the details out)."""
    return [r.reason for r in caplog.records if r.getMessage() == "request refused"]  # type: ignore[attr-defined]


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
    caplog: pytest.LogCaptureFixture,
) -> None:
    version = s3_registry.publish("alpha", *model_artifacts[0])
    with monkeypatch.context() as patch:
        patch.setenv("AWS_ENDPOINT_URL_S3", s3_endpoint)
        _corrupt(s3_registry, "alpha", version)
    status, body = recommend(invoke)
    assert status == 503
    assert body["error"]["code"] == "model_integrity"  # type: ignore[index]
    assert "model.forest.npz checksum mismatch" in reasons(caplog)[0]


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


def test_no_model_published_is_a_clear_503(
    invoke: Handler, serving_env: FaultyProxy, caplog: pytest.LogCaptureFixture
) -> None:
    status, body = recommend(invoke)
    assert status == 503
    assert body["error"]["code"] == "model_not_published"  # type: ignore[index]
    assert "'alpha'" in reasons(caplog)[0]


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


@pytest.fixture
def kms_registry(s3_store_uri: str, s3_endpoint: str, kms_key: str, signing_keys: Path) -> Registry:
    """Publishing side, signing alpha's versions through KMS Sign (other banks: local keys)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_ENDPOINT_URL_S3", s3_endpoint)
        store = open_store(s3_store_uri)
    keys = KeyRing({"alpha": kms_key}, signing_keys)
    keys.trusted_key("alpha")  # its KMS client now talks to the endpoint itself
    return Registry(store, keys, Policy())


@pytest.fixture
def kms_proxy(s3_endpoint: str) -> Iterator[FaultyProxy]:
    """KMS on the moto endpoint, behind a proxy that can fail."""
    parsed = urlparse(s3_endpoint)
    proxy = FaultyProxy((parsed.hostname or "127.0.0.1", parsed.port or 80))
    yield proxy
    proxy.close()


@pytest.fixture
def kms_anchor(monkeypatch: pytest.MonkeyPatch, serving_env: FaultyProxy, kms_key: str) -> str:
    """The function trusts alpha's KMS key, named by its ARN."""
    monkeypatch.setenv("SIGNING_KEY_ID", kms_key)
    return kms_key


def test_a_version_signed_through_kms_is_served(
    invoke: Handler, kms_anchor: str, kms_registry: Registry, model_artifacts: Artifacts
) -> None:
    version = kms_registry.publish("alpha", *model_artifacts[0])
    status, body = recommend(invoke)
    assert (status, body["model_version"]) == (200, version)
    signed = kms_registry.verify("alpha", version).signed
    assert signed is not None
    assert signed.key.key_id == kms_anchor
    bundle = json.loads(kms_registry.store.read(f"alpha/versions/{version}/{SIGNATURE_FILE}").data)
    assert bundle["verificationMaterial"]["publicKey"]["hint"] == signed.key.fingerprint


@pytest.mark.parametrize("case", list(CASES))
def test_a_refused_version_keeps_the_last_good_model_through_the_handler(
    invoke: Handler,
    kms_anchor: str,
    kms_registry: Registry,
    model_artifacts: Artifacts,
    pickle_only_artifacts: Artifact,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
    case: str,
) -> None:
    tamper, reason = CASES[case]
    monkeypatch.setenv("MODEL_TTL_SECONDS", "0")
    good = kms_registry.publish("alpha", *model_artifacts[0])
    assert recommend(invoke)[1]["model_version"] == good
    scene = Scene(kms_registry, "alpha", *model_artifacts, pickle_only_artifacts, tmp_path)
    bad = tamper(scene)
    status, body = recommend(invoke)
    assert (status, body["model_version"]) == (200, good)
    get_recommender.cache_clear()  # a new container: no last good model
    status, body = recommend(invoke)
    assert (status, body["error"]["code"]) == (503, "model_rejected")  # type: ignore[index]
    assert f"alpha/{bad} is refused" in reasons(caplog)[0]
    assert reason in reasons(caplog)[0]


def test_kms_is_asked_for_the_public_key_once(
    invoke: Handler,
    kms_anchor: str,
    kms_registry: Registry,
    model_artifacts: Artifacts,
    kms_proxy: FaultyProxy,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A new version is verified with the key fetched at the first load: KMS may be down."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_KMS", kms_proxy.url)
    monkeypatch.setenv("MODEL_TTL_SECONDS", "0")
    kms_registry.publish("alpha", *model_artifacts[0])  # signs through the endpoint itself
    assert recommend(invoke)[0] == 200
    kms_proxy.set_mode("down")
    second = kms_registry.publish("alpha", *model_artifacts[1])
    assert recommend(invoke)[1]["model_version"] == second


def test_kms_down_at_the_first_load_is_a_503_store_unavailable(
    invoke: Handler,
    kms_anchor: str,
    kms_registry: Registry,
    model_artifacts: Artifacts,
    closed_port: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    kms_registry.publish("alpha", *model_artifacts[0])
    monkeypatch.setenv("AWS_ENDPOINT_URL_KMS", closed_port)
    status, body = recommend(invoke)
    assert (status, body["error"]["code"]) == (503, "store_unavailable")  # type: ignore[index]
    assert "KMS unreachable for get_public_key" in reasons(caplog)[0]


def test_a_kms_anchor_refuses_a_locally_signed_version(
    invoke: Handler,
    kms_anchor: str,
    kms_registry: Registry,
    model_artifacts: Artifacts,
    signing_keys: Path,
) -> None:
    local = Registry(kms_registry.store, KeyRing({}, signing_keys), Policy())
    local.publish("alpha", *model_artifacts[0])  # signed with the local alpha key
    status, body = recommend(invoke)
    assert (status, body["error"]["code"]) == (503, "model_rejected")  # type: ignore[index]


def test_a_signed_skops_form_is_served_where_the_stage_opts_in(
    invoke: Handler,
    kms_anchor: str,
    kms_registry: Registry,
    portable_artifacts: Artifact,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    version = kms_registry.publish("alpha", *portable_artifacts)
    status, body = recommend(invoke)
    assert (status, body["error"]["code"]) == (503, "model_rejected")  # type: ignore[index]
    monkeypatch.setenv("SERVE_ANY_ESTIMATOR", "true")
    service.reset()  # a new container, with the new setting
    status, body = recommend(invoke)
    assert (status, body["model_version"]) == (200, version)


def test_s3_never_overwrites_a_version_file(s3_registry: Registry) -> None:
    store = s3_registry.store
    store.write_new("alpha/versions/v1/model.sig", b"first")
    with pytest.raises(ObjectExists, match="already exists"):
        store.write_new("alpha/versions/v1/model.sig", b"second")
    assert store.read("alpha/versions/v1/model.sig").data == b"first"
