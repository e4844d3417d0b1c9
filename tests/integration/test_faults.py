"""The fault table of docs/reliability.md, each case through the real handler with the model
store on the S3 endpoint behind a proxy that fails as the case says.

Warm (a good model cached): every request is answered 200 from the cache within the refresh
budget. Cold (nothing cached): a clear 503 within the load budget, never a 5xx other than
that, never a traceback; a wrong ETag spoils only revalidation and is answered 200.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import NamedTuple

import pytest

from bankreco.domain.manifest import Manifest
from bankreco.domain.registry import Registry
from tests.conftest import Handler, api_event, example_body
from tests.integration.http_faults import Fault, FaultProxy

Artifacts = list[tuple[Manifest, dict[str, bytes]]]

LOAD_TIMEOUT = 2.0  # MODEL_LOAD_TIMEOUT for these tests
REFRESH_WAIT = 0.25  # MODEL_REFRESH_WAIT
SLACK = 1.0  # the handler's own work and a loaded machine


class Case(NamedTuple):
    fault: Fault
    cold_status: int
    cold_metric: str  # a metric the cold request's answer carries
    warm_metric: str  # a metric a warm request's answer carries while the fault lasts


CASES = [
    Case("down", 503, "ModelCacheMiss", "ModelRefreshFailed"),
    Case("slow", 503, "ModelLoadTimeout", "StaleModelServed"),
    Case("5xx", 503, "ModelCacheMiss", "ModelRefreshFailed"),
    Case("truncated", 503, "ModelCacheMiss", "ModelCacheMiss"),
    Case("etag", 200, "ModelLoadTime", "ModelCacheMiss"),
]


@pytest.fixture
def faults(s3_endpoint: str) -> Iterator[FaultProxy]:
    proxy = FaultProxy(s3_endpoint.removeprefix("http://"))
    yield proxy
    proxy.close()


@pytest.fixture
def function_env(
    monkeypatch: pytest.MonkeyPatch, s3_store_uri: str, faults: FaultProxy
) -> FaultProxy:
    """The function reaches the store through the proxy, with short budgets."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", faults.url)
    monkeypatch.setenv("MODEL_STORE_URI", s3_store_uri)
    monkeypatch.setenv("BANK_ID", "alpha")
    monkeypatch.setenv("S3_CONNECT_TIMEOUT", "0.5")
    monkeypatch.setenv("S3_READ_TIMEOUT", "3")  # a slow store outlasts the load budget
    # One attempt: a retried 503 SlowDown waits a random backoff of up to a second, which would
    # make whether the first warm answer carries ModelRefreshFailed or StaleModelServed a race.
    monkeypatch.setenv("S3_MAX_ATTEMPTS", "1")
    monkeypatch.setenv("MODEL_LOAD_TIMEOUT", str(LOAD_TIMEOUT))
    monkeypatch.setenv("MODEL_REFRESH_WAIT", str(REFRESH_WAIT))
    return faults


def timed(invoke: Handler) -> tuple[int, dict[str, object], float]:
    started = time.perf_counter()
    status, body = invoke(api_event("POST", "/recommendations", example_body(2)))
    return status, body, time.perf_counter() - started


@pytest.mark.parametrize("case", CASES, ids=[c.fault for c in CASES])
def test_cold_cache(
    case: Case,
    invoke: Handler,
    function_env: FaultProxy,
    s3_registry: Registry,
    model_artifacts: Artifacts,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    version = s3_registry.publish("alpha", *model_artifacts[0])
    function_env.set(case.fault)
    status, body, seconds = timed(invoke)
    out = capfd.readouterr().out
    assert status == case.cold_status
    assert seconds < LOAD_TIMEOUT + SLACK
    assert case.cold_metric in out
    if status == 200:
        assert body["model_version"] == version
        return
    assert body["error"]["code"] == "store_unavailable"  # type: ignore[index]
    refused = [r for r in caplog.records if r.getMessage() == "request refused"]
    assert refused, "the refusal is logged, with its reason"
    assert "Traceback" not in str(body)


@pytest.mark.parametrize("case", CASES, ids=[c.fault for c in CASES])
def test_warm_cache(
    case: Case,
    invoke: Handler,
    function_env: FaultProxy,
    s3_registry: Registry,
    model_artifacts: Artifacts,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("MODEL_TTL_SECONDS", "0")  # every request revalidates
    version = s3_registry.publish("alpha", *model_artifacts[0])
    assert timed(invoke)[0] == 200
    function_env.set(case.fault)
    capfd.readouterr()
    for _ in range(3):
        status, body, seconds = timed(invoke)
        assert (status, body["model_version"]) == (200, version)
        assert seconds < REFRESH_WAIT + SLACK
    assert case.warm_metric in capfd.readouterr().out


def test_every_s3_call_names_the_expected_bucket_owner(
    invoke: Handler,
    function_env: FaultProxy,
    s3_registry: Registry,
    model_artifacts: Artifacts,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With MODEL_BUCKET_OWNER set, S3 refuses every call if another account owns the bucket
    (moto does not check the owner, so the test checks that each call asks)."""
    monkeypatch.setenv("MODEL_BUCKET_OWNER", "123456789012")
    s3_registry.publish("alpha", *model_artifacts[0])
    assert timed(invoke)[0] == 200
    assert len(function_env.seen) >= 3
    owners = {headers.get("x-amz-expected-bucket-owner") for _, _, headers in function_env.seen}
    assert owners == {"123456789012"}
