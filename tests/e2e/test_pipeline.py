"""generate -> train -> evaluate -> publish signed through KMS to the S3 endpoint -> verify ->
the real handler, trusting that KMS key, answers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bankreco.catalog import PRODUCTS
from bankreco.cli import main
from bankreco.domain.manifest import MANIFEST_FILE, MODEL_FILE, Manifest
from bankreco.domain.registry import Registry
from bankreco.store import open_store
from tests.conftest import Handler, api_event, example_body
from tests.e2e.conftest import TrainedBank


def test_model_meets_the_quality_goals(trained_bank: TrainedBank) -> None:
    scores = trained_bank.evaluation.map_at_7
    assert scores["model"] >= 0.95 * scores["oracle"], scores
    assert scores["model"] >= 1.5 * scores["popularity"], scores
    assert scores["model"] >= 1.2 * scores["demographics_only"], scores
    assert scores["oracle"] <= scores["perfect"]


def test_manifest_describes_the_model(trained_bank: TrainedBank) -> None:
    manifest = Manifest.model_validate_json((trained_bank.model_dir / MANIFEST_FILE).read_text())
    manifest.verify((trained_bank.model_dir / MODEL_FILE).read_bytes())
    assert "2016-05-28" not in manifest.training["months"]  # the evaluation month is unseen
    assert "2015-06-28" in manifest.training["months"]
    assert manifest.training["additions"] > 1000
    assert manifest.metrics["holdout_month"] == "2016-05-28"
    assert manifest.libraries["scikit-learn"]


def test_published_model_answers_the_three_examples_through_s3(
    trained_bank: TrainedBank,
    s3_store_uri: str,
    kms_key: str,
    monkeypatch: pytest.MonkeyPatch,
    invoke: Handler,
    capsys: pytest.CaptureFixture[str],
) -> None:
    where = ["--bank", "demo", "--store", s3_store_uri, "--key-id", kms_key]
    assert main(["publish", str(trained_bank.model_dir), *where]) == 0
    version = capsys.readouterr().out.strip()
    assert Registry(open_store(s3_store_uri)).versions("demo") == [version]
    assert main(["verify", "--version", version, *where]) == 0
    assert capsys.readouterr().out.startswith(f"verified demo/{version}: signed by {kms_key}\n")
    monkeypatch.setenv("MODEL_STORE_URI", s3_store_uri)
    monkeypatch.setenv("BANK_ID", "demo")
    monkeypatch.setenv("SIGNING_KEY_ID", kms_key)
    for number in (1, 2, 3):
        status, body = invoke(api_event("POST", "/recommendations", example_body(number)))
        assert status == 200
        assert body["model_version"] == version
        products = [r["product"] for r in body["recommendations"]]
        assert len(products) == len(set(products)) == 7
        assert set(products) <= set(PRODUCTS)
    status, legacy = invoke(api_event("POST", "/Predictor/Predict", example_body(2)))
    assert status == 200
    assert len(legacy["Predictions"].split()) == 7


def test_cli_evaluate_json_and_report(
    trained_bank: TrainedBank, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["evaluate", "--data", str(trained_bank.data), "--model", str(trained_bank.model_dir)]
    assert main([*args, "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert set(result["map_at_7"]) == {
        "model",
        "popularity",
        "demographics_only",
        "oracle",
        "perfect",
    }
    report = trained_bank.model_dir / "report"
    for name in ("report.md", "map_at_7.png", "per_product.png", "calibration.png"):
        assert (report / name).stat().st_size > 0
    for name in ("map_at_7.png", "per_product.png", "calibration.png"):
        assert (report / name).stat().st_size < 150_000, name  # small enough for the README
    points = trained_bank.evaluation.calibration  # log-scale bins spread over the scores
    assert len(points) >= 5
    assert points[-1]["observed_rate"] > 10 * points[0]["observed_rate"]


def test_cli_versions_and_rollback(
    trained_bank: TrainedBank, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = str(tmp_path / "store")
    publish = ["publish", str(trained_bank.model_dir), "--bank", "beta", "--store", store]
    assert main(publish) == 0
    first = capsys.readouterr().out.strip()
    assert main(publish) == 0  # the same model again: nothing new
    assert capsys.readouterr().out.strip() == first
    assert main([*publish, "--force"]) == 0
    second = capsys.readouterr().out.strip()
    assert second != first

    def listed() -> list[tuple[str, bool]]:
        assert main(["versions", "--bank", "beta", "--store", store, "--json"]) == 0
        return [(v["version"], v["current"]) for v in json.loads(capsys.readouterr().out)]

    assert listed() == [(first, False), (second, True)]
    assert main(["versions", "--bank", "beta", "--store", store]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[1].startswith(f"  {first}")
    assert table[2].startswith(f"* {second}")
    assert main(["rollback", "--bank", "beta", "--to", first, "--store", store]) == 0
    capsys.readouterr()
    assert listed() == [(first, True), (second, False)]
    assert main(["rollback", "--bank", "beta", "--to", "v1", "--store", store]) == 2
    assert "has no version 'v1'" in capsys.readouterr().err


def test_compact_form_ranks_like_the_trained_estimator(trained_bank: TrainedBank) -> None:
    """Every customer of the evaluation month: same probabilities, same top 7."""
    import pickle

    import numpy as np

    from bankreco.data.reader import read_snapshots
    from bankreco.domain.forest import CompiledForest
    from bankreco.domain.manifest import COMPACT_FILE
    from bankreco.training.dataset import month_pair

    frame = read_snapshots(trained_bank.data, ["2016-04-28", "2016-05-28"]).frame
    X = month_pair(frame, "2016-05-28").encode()
    X[::5, len(X[0]) - 24 :] = np.nan  # clients that do not send holdings, too
    estimator = pickle.loads((trained_bank.model_dir / MODEL_FILE).read_bytes())
    fast = CompiledForest.from_bytes((trained_bank.model_dir / COMPACT_FILE).read_bytes())
    expected, got = estimator.predict_proba(X), fast.predict_proba(X)
    assert len(X) > 40_000
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)
    top = np.argsort(-expected, axis=1, kind="stable")[:, :7]
    assert (np.argsort(-got, axis=1, kind="stable")[:, :7] == top).all()
