"""Integration fixtures: a bank's models on the S3 endpoint, behind a proxy that can fail."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlparse

import pytest

from bankreco.domain.registry import Registry
from bankreco.store import open_store
from tests.integration.proxy import FaultyProxy


@pytest.fixture
def proxy(s3_endpoint: str) -> Iterator[FaultyProxy]:
    parsed = urlparse(s3_endpoint)
    faulty = FaultyProxy((parsed.hostname or "127.0.0.1", parsed.port or 80))
    yield faulty
    faulty.close()


@pytest.fixture
def s3_registry(s3_store_uri: str, s3_endpoint: str) -> Registry:
    """Publishing side: talks to the endpoint directly, whatever the function's env says."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_ENDPOINT_URL_S3", s3_endpoint)
        return Registry(open_store(s3_store_uri))


@pytest.fixture
def serving_env(
    monkeypatch: pytest.MonkeyPatch, s3_store_uri: str, proxy: FaultyProxy
) -> FaultyProxy:
    """The function's environment: the store reached through the proxy, short timeouts."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", proxy.url)
    monkeypatch.setenv("MODEL_STORE_URI", s3_store_uri)
    monkeypatch.setenv("BANK_ID", "alpha")
    monkeypatch.setenv("ALLOWED_BANKS", "beta")
    monkeypatch.setenv("S3_READ_TIMEOUT", "0.5")
    monkeypatch.setenv("S3_CONNECT_TIMEOUT", "0.5")
    monkeypatch.setenv("S3_MAX_ATTEMPTS", "1")
    return proxy
