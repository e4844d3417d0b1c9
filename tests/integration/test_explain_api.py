"""Reasons and model cards through the real handler: `"explain": true` adds up to three reasons
to each recommendation (single and batch), unexplained answers are unchanged, a model that
cannot explain answers a 409 naming `explain`, and `GET /models/current?format=card` returns
the champion's signed model card."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from bankreco.domain.forest import CompiledForest
from bankreco.domain.manifest import CARD_FILE, COMPACT_FILE, MANIFEST_FILE, Manifest, sha256
from bankreco.domain.registry import Registry
from bankreco.store.local import LocalStore
from tests.conftest import Artifacts, Handler, api_event, example_body

EXPLAINED, PLAIN = "alpha", "beta"  # the same model: with covers and a card, and without both
CARD = "# Model card\n\n## Model details\n\nA test model.\n"


def without_covers(artifacts: Artifacts) -> Artifacts:
    """The version as a compact form written before covers were kept."""
    manifest, files = artifacts
    forest = CompiledForest.from_bytes(files[COMPACT_FILE])
    old = dataclasses.replace(forest, cover=None).to_bytes()
    compact = manifest.compact.model_copy(update={"sha256": sha256(old), "bytes": len(old)})
    assert manifest.compact is not None
    return manifest.model_copy(update={"compact": compact}), {**files, COMPACT_FILE: old}


def with_card(artifacts: Artifacts) -> Artifacts:
    manifest, files = artifacts
    return manifest.with_card(CARD.encode()), {**files, CARD_FILE: CARD.encode()}


@pytest.fixture
def store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, model_artifacts: list[Artifacts]
) -> LocalStore:
    local = LocalStore(tmp_path / "models")
    registry = Registry(local)
    registry.publish(EXPLAINED, *with_card(model_artifacts[0]))
    registry.publish(PLAIN, *without_covers(model_artifacts[0]))
    monkeypatch.setenv("MODEL_STORE_URI", str(tmp_path / "models"))
    monkeypatch.setenv("BANK_ID", EXPLAINED)
    monkeypatch.setenv("ALLOWED_BANKS", PLAIN)
    return local


def recommend(invoke: Handler, **more: Any) -> tuple[int, Any]:
    return invoke(api_event("POST", "/recommendations", {**example_body(1), **more}))


@pytest.mark.usefixtures("store")
def test_explained_answer_has_up_to_three_positive_reasons(invoke: Handler) -> None:
    status, plain = recommend(invoke)
    assert status == 200
    status, explained = recommend(invoke, explain=True)
    assert status == 200
    assert [(r["product"], r["score"]) for r in explained["recommendations"]] == [
        (r["product"], r["score"]) for r in plain["recommendations"]
    ]  # the same ranking, with reasons
    assert all("reasons" not in r for r in plain["recommendations"])  # nothing when not asked
    reasons = [r["reasons"] for r in explained["recommendations"]]
    assert any(reasons)
    for found in reasons:
        assert len(found) <= 3
        contributions = [r["contribution"] for r in found]
        assert contributions == sorted(contributions, reverse=True)
        assert all(c > 0 for c in contributions)
        for reason in found:
            assert set(reason) == {"field", "value", "contribution", "sentence"}
            assert reason["sentence"].endswith(f"+{reason['contribution']:.2f}") or (
                abs(reason["contribution"]) < 0.005
            )


@pytest.mark.usefixtures("store")
def test_reasons_name_the_customers_own_values(invoke: Handler) -> None:
    _, explained = recommend(invoke, explain=True, age=23)
    by_field = {r["field"]: r for rec in explained["recommendations"] for r in rec["reasons"]}
    assert "age" in by_field  # the test model's labels are driven by age
    assert by_field["age"]["value"] == 23
    assert type(by_field["age"]["value"]) is int  # written 23, not 23.0
    assert by_field["age"]["sentence"].startswith("age 23")


@pytest.mark.usefixtures("store")
def test_batch_explains_every_customer_or_the_ones_that_ask(invoke: Handler) -> None:
    customers = [{**example_body(i % 3), "customer_id": f"c{i}"} for i in range(6)]
    status, every = invoke(
        api_event("POST", "/recommendations/batch", {"customers": customers, "explain": True})
    )
    assert status == 200
    assert all("reasons" in r for item in every["results"] for r in item["recommendations"])
    customers[2]["explain"] = True
    status, some = invoke(api_event("POST", "/recommendations/batch", {"customers": customers}))
    assert status == 200
    asked = ["reasons" in item["recommendations"][0] for item in some["results"]]
    assert asked == [False, False, True, False, False, False]
    assert some["results"][2] == every["results"][2]  # the same reasons either way


@pytest.mark.usefixtures("store")
@pytest.mark.parametrize("value", ["true", 1, "yes", None, [True]])
def test_explain_takes_a_json_boolean_only(invoke: Handler, value: Any) -> None:
    status, reply = recommend(invoke, explain=value)
    assert status == 400
    assert [f["field"] for f in reply["error"]["fields"]] == ["explain"]


@pytest.mark.usefixtures("store")
def test_a_model_without_covers_answers_409_naming_explain(invoke: Handler) -> None:
    status, _ = recommend(invoke, bank=PLAIN)
    assert status == 200  # it still ranks
    status, reply = recommend(invoke, bank=PLAIN, explain=True)
    assert status == 409
    assert reply["error"]["code"] == "explanation_unavailable"
    assert "explain" in reply["error"]["message"]


@pytest.mark.usefixtures("store")
def test_the_legacy_route_ignores_explain(invoke: Handler) -> None:
    status, reply = invoke(api_event("POST", "/Predictor/Predict", {**example_body(0)}))
    assert status == 200
    status, explained = invoke(
        api_event("POST", "/Predictor/Predict", {**example_body(0), "explain": True})
    )
    assert (status, explained) == (200, reply)


def test_model_card_is_served_verified(invoke_raw: Handler, store: LocalStore) -> None:
    status, text = invoke_raw(api_event("GET", "/models/current", query={"format": "card"}))
    assert status == 200
    assert text == CARD
    status, reply = invoke_raw(
        api_event("GET", "/models/current", query={"format": "card", "bank": PLAIN})
    )
    assert status == 404  # that version has no card
    assert "no model card" in json.loads(reply)["error"]["message"]
    status, reply = invoke_raw(api_event("GET", "/models/current", query={"format": "pdf"}))
    assert status == 400
    assert [f["field"] for f in json.loads(reply)["error"]["fields"]] == ["query.format"]


def test_a_tampered_card_is_refused(invoke_raw: Handler, store: LocalStore, tmp_path: Path) -> None:
    [version] = Registry(store).versions(EXPLAINED)
    path = tmp_path / "models" / EXPLAINED / "versions" / version / CARD_FILE
    path.chmod(0o644)
    path.write_text(CARD + "\nRecommended for every use.\n")
    status, reply = invoke_raw(api_event("GET", "/models/current", query={"format": "card"}))
    assert status == 503
    assert json.loads(reply)["error"]["code"] == "model_integrity"
    status, _ = invoke_raw(api_event("POST", "/recommendations", example_body(1)))
    assert status == 200  # the card alone is refused: the model keeps answering
    manifest = Manifest.model_validate_json((path.parent / MANIFEST_FILE).read_text())
    assert manifest.card is not None
