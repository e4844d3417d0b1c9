"""A client generated from the committed document by an independent generator
(openapi-python-client) gets a typed answer from every route, errors included, and its
models take every request the API takes. The client calls the real handler through the
WSGI application (httpx.WSGITransport): no server, no network."""

from __future__ import annotations

import importlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any, Final

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bankreco.api.wsgi import Application
from tests.conftest import ROOT, example_body

DOCUMENT: Final = ROOT / "docs" / "openapi.json"
GENERATOR: Final = Path(sys.executable).with_name("openapi-python-client")
PACKAGE: Final = "bankreco_client"


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    """The client package, generated into a temporary directory and imported."""
    out = tmp_path_factory.mktemp("client")
    config = out / "config.yaml"
    config.write_text("post_hooks: []\n")  # its default hooks run ruff on the generated code
    run = subprocess.run(
        [GENERATOR, "generate", "--path", DOCUMENT, "--meta", "none",
         "--output-path", out / PACKAGE, "--config", config],
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    assert "warning" not in (run.stdout + run.stderr).lower(), run.stdout + run.stderr
    sys.path.insert(0, str(out))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(out))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


class Api:
    """The generated client, its models and operations, over the WSGI application."""

    def __init__(self, package: ModuleType) -> None:
        self.models = importlib.import_module(f"{PACKAGE}.models")
        self.ops = {
            name: importlib.import_module(f"{PACKAGE}.api.default.{name}")
            for name in (
                "recommend_recommendations_post",
                "recommend_batch_recommendations_batch_post",
                "legacy_predict_predictor_predict_post",
                "current_model_models_current_get",
            )
        }
        transport = httpx.WSGITransport(app=Application())
        self.client = package.Client(
            base_url="http://bankreco",
            raise_on_unexpected_status=True,
            httpx_args={"transport": transport},
        )

    def profile(self, body: dict[str, Any]) -> Any:
        return self.models.CustomerProfile.from_dict(body)

    def recommend(self, body: dict[str, Any]) -> Any:
        op = self.ops["recommend_recommendations_post"]
        return op.sync(client=self.client, body=self.profile(body))

    def batch(self, customers: list[Any]) -> Any:
        body = self.models.BatchRequest.from_dict({"customers": customers})
        op = self.ops["recommend_batch_recommendations_batch_post"]
        return op.sync(client=self.client, body=body)

    def legacy(self, body: dict[str, Any]) -> Any:
        op = self.ops["legacy_predict_predictor_predict_post"]
        return op.sync(client=self.client, body=self.profile(body))

    def current(self, **query: Any) -> Any:
        return self.ops["current_model_models_current_get"].sync(client=self.client, **query)


@pytest.fixture
def api(generated: ModuleType) -> Api:
    return Api(generated)


def test_every_route_answers_a_typed_response(api: Api, published: str) -> None:
    models = api.models
    answer = api.recommend(example_body(1))
    assert isinstance(answer, models.RecommendationResponse)
    assert (answer.model_version, len(answer.recommendations)) == (published, 7)
    assert all(isinstance(r, models.Recommendation) for r in answer.recommendations)

    batch = api.batch([example_body(2), {**example_body(3), "age": "old"}])
    assert isinstance(batch, models.BatchResponse)
    first, second = batch.results
    assert isinstance(first, models.BatchItem)
    assert len(first.recommendations) == 7
    assert isinstance(second.error, models.ErrorBody)
    assert second.error.fields[0].field == "age"

    legacy = api.legacy(example_body(3))
    assert isinstance(legacy, models.LegacyResponse)
    assert len(legacy.predictions.split(" ")) == 7

    current = api.current(bank="demo")
    assert isinstance(current, models.ModelInfo)
    assert current.model_version == published


def test_errors_are_typed(
    api: Api, published: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    error = api.models.ErrorResponse
    wrong = api.recommend({**example_body(1), "age": -4})
    assert isinstance(wrong, error)
    assert (wrong.error.code, wrong.error.fields[0].field) == ("validation_error", "age")
    assert wrong.request_id
    unknown = api.legacy({**example_body(1), "bank": "other"})
    assert isinstance(unknown, error)
    assert unknown.error.code == "unknown_bank"
    too_big = api.recommend({**example_body(1), "customer_id": "x" * (1024 * 1024)})
    assert isinstance(too_big, error)
    assert too_big.error.code == "payload_too_large"
    bad_query = api.current(bank="Not A Bank")
    assert isinstance(bad_query, error)
    assert bad_query.error.fields[0].field == "query.bank"

    monkeypatch.setenv("MODEL_STORE_URI", str(tmp_path / "empty"))  # a store with no model
    from bankreco.domain import service

    service.reset()
    unavailable = api.current()
    assert isinstance(unavailable, error)
    assert unavailable.error.code == "model_not_published"
    assert str(tmp_path) not in unavailable.error.message


schema = schemathesis.openapi.from_path(DOCUMENT)
POSITIVE: Final = schemathesis.GenerationMode.POSITIVE
PROFILES: Final = st.one_of(
    st.sampled_from([example_body(n) for n in (1, 2, 3)]),
    schema["/recommendations"]["POST"].as_strategy(generation_mode=POSITIVE).map(lambda c: c.body),
)


@settings(
    max_examples=120,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=PROFILES)
def test_the_models_take_every_request_the_api_takes(
    api: Api, published: str, body: dict[str, Any]
) -> None:
    profile = api.profile(body)
    assert profile.to_dict() == body
    answer = api.recommend(body)
    if body.get("bank") in (None, "demo"):
        assert isinstance(answer, api.models.RecommendationResponse), answer
    else:
        assert isinstance(answer, api.models.ErrorResponse)
        assert answer.error.code == "unknown_bank"
