"""Champion and challenger through the real handler: every answer names its version, a
customer keeps their model, the batch is split by route, the model info shows the split, the
metrics count each version, and pointer moves are picked up on revalidation."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from bankreco.domain.manifest import Manifest
from bankreco.domain.registry import Registry
from bankreco.domain.traffic import to_challenger
from bankreco.store.local import LocalStore
from tests.conftest import Handler, api_event, example_body
from tests.integration.proxy import FaultyProxy

Artifacts = list[tuple[Manifest, dict[str, bytes]]]
SHARE = 25


@pytest.fixture
def registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Registry:
    store = tmp_path / "models"
    monkeypatch.setenv("MODEL_STORE_URI", str(store))
    monkeypatch.setenv("BANK_ID", "demo")
    return Registry(LocalStore(store))


@pytest.fixture
def split(registry: Registry, model_artifacts: Artifacts) -> tuple[str, str]:
    """The bank's champion and its challenger for SHARE percent of the customers."""
    champion = registry.publish("demo", *model_artifacts[0])
    challenger = registry.publish("demo", *model_artifacts[1], challenger_share=SHARE)
    return champion, challenger


def expected(customer_id: str, split: tuple[str, str]) -> str:
    return split[1] if to_challenger("demo", customer_id, SHARE) else split[0]


def recommend(invoke: Handler, customer_id: str | None = None) -> dict[str, Any]:
    body = {**example_body(1), "customer_id": customer_id}
    status, answer = invoke(api_event("POST", "/recommendations", body))
    assert status == 200, answer
    return dict(answer)


def served_documents(out: str) -> list[dict[str, Any]]:
    """The AnswersServed EMF documents printed on stdout."""
    documents = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    return [d for d in documents if "AnswersServed" in d]


def test_a_customer_always_gets_the_model_routed_to(
    invoke: Handler, split: tuple[str, str]
) -> None:
    ids = [f"C-{n}" for n in range(40)]
    first = {c: recommend(invoke, c)["model_version"] for c in ids}
    assert first == {c: expected(c, split) for c in ids}
    assert set(first.values()) == set(split)  # 40 customers at 25%: both serve
    assert {c: recommend(invoke, c)["model_version"] for c in ids} == first
    status, legacy = invoke(api_event("POST", "/Predictor/Predict", example_body(1)))
    assert status == 200
    assert legacy["model_version"] in split


def test_a_batch_is_split_by_route_and_each_result_names_its_version(
    invoke: Handler, split: tuple[str, str], capfd: pytest.CaptureFixture[str]
) -> None:
    ids = [f"B-{n}" for n in range(1000)]
    customers: list[dict[str, Any]] = [{**example_body(2), "customer_id": c} for c in ids]
    customers[3] = {**customers[3], "age": -1}  # fails alone
    capfd.readouterr()
    status, body = invoke(api_event("POST", "/recommendations/batch", {"customers": customers}))
    assert status == 200
    results = body["results"]
    assert [r["index"] for r in results] == list(range(1000))
    assert "error" in results[3]
    answered = [r for r in results if "error" not in r]
    assert all(r["model_version"] == expected(r["customer_id"], split) for r in answered)
    by_version = {v: sum(r["model_version"] == v for r in answered) for v in split}
    assert abs(by_version[split[1]] / len(answered) * 100 - SHARE) <= 4.5  # 3.3 sigma
    served = {d["version"]: d for d in served_documents(capfd.readouterr().out)}
    assert {v: served[v]["AnswersServed"] for v in split} == {
        v: [float(n)] for v, n in by_version.items()
    }
    assert (served[split[0]]["role"], served[split[1]]["role"]) == ("champion", "challenger")
    for document in served.values():
        (directive,) = document["_aws"]["CloudWatchMetrics"]
        names = [name for dimensions in directive["Dimensions"] for name in dimensions]
        assert all(isinstance(document[name], str) for name in names)
        assert len(set(names)) <= 29


def test_the_model_info_shows_the_champion_and_the_challenger_with_its_share(
    invoke: Handler, split: tuple[str, str], registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MODEL_TTL_SECONDS", "0")  # every request revalidates
    status, info = invoke(api_event("GET", "/models/current"))
    assert status == 200
    assert info["model_version"] == split[0]
    assert info["challenger"]["model_version"] == split[1]
    assert info["challenger"]["share"] == SHARE
    registry.set_share("demo", 60)
    assert invoke(api_event("GET", "/models/current"))[1]["challenger"]["share"] == 60
    registry.promote("demo")
    _, info = invoke(api_event("GET", "/models/current"))
    assert (info["model_version"], info["challenger"]) == (split[1], None)
    assert {recommend(invoke, f"P-{n}")["model_version"] for n in range(20)} == {split[1]}
    registry.set_challenger("demo", split[0], 50)
    registry.set_current("demo", split[0])  # rollback: the challenger goes
    assert {recommend(invoke, f"P-{n}")["model_version"] for n in range(20)} == {split[0]}


def test_a_tampered_challenger_is_refused_and_the_champion_answers_everyone(
    invoke: Handler,
    registry: Registry,
    model_artifacts: Artifacts,
    tmp_path: Path,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    champion = registry.publish("demo", *model_artifacts[0])
    challenger = registry.publish("demo", *model_artifacts[1], challenger_share=50)
    version_dir = tmp_path / "models" / "demo" / "versions" / challenger
    (version_dir / "model.forest.npz").write_bytes(b"tampered")
    capfd.readouterr()
    assert {recommend(invoke, f"T-{n}")["model_version"] for n in range(20)} == {champion}
    emitted = capfd.readouterr().out
    assert "ChallengerRefused" in emitted
    assert "ModelVersionRefused" in emitted
    assert "challenger not served: the champion answers every customer" in caplog.messages
    _, info = invoke(api_event("GET", "/models/current"))
    assert (info["model_version"], info["challenger"]) == (champion, None)


def test_a_challenger_published_to_s3_is_picked_up_at_revalidation(
    invoke: Handler,
    serving_env: FaultyProxy,
    s3_registry: Registry,
    model_artifacts: Artifacts,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ttl = 1.0
    monkeypatch.setenv("MODEL_TTL_SECONDS", str(ttl))
    champion = s3_registry.publish("alpha", *model_artifacts[0])
    status, info = invoke(api_event("GET", "/models/current"))
    assert (status, info["challenger"]) == (200, None)
    challenger = s3_registry.publish("alpha", *model_artifacts[1], challenger_share=50)
    time.sleep(ttl + 0.05)
    _, info = invoke(api_event("GET", "/models/current"))
    assert (info["model_version"], info["challenger"]["model_version"]) == (champion, challenger)
    ids = [f"S-{n}" for n in range(30)]
    status, body = invoke(
        api_event(
            "POST",
            "/recommendations/batch",
            {"customers": [{**example_body(2), "customer_id": c} for c in ids]},
        )
    )
    routed = {c: challenger if to_challenger("alpha", c, 50) else champion for c in ids}
    assert status == 200
    assert {r["customer_id"]: r["model_version"] for r in body["results"]} == routed
