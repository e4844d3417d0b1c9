"""The compact forest's contributions against shap's TreeExplainer on the scikit-learn model
that `bankreco train` fits on a generated bank."""

from __future__ import annotations

import pickle
import warnings
from pathlib import Path

import numpy as np
import pytest

from bankreco import features
from bankreco.catalog import PRODUCT_CODES
from bankreco.data.generate import generate
from bankreco.domain.explain import base_values, contributions
from bankreco.domain.forest import CompiledForest
from bankreco.domain.manifest import COMPACT_FILE, MODEL_FILE
from bankreco.training.train import TrainConfig, train
from tests.conftest import random_profiles

with warnings.catch_warnings():  # shap's plotting colours use a deprecated matplotlib call
    warnings.simplefilter("ignore", PendingDeprecationWarning)
    import shap

TOP_K = 7


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model trained as in production (TrainConfig's defaults) on 2,000 generated customers."""
    root = tmp_path_factory.mktemp("shap")
    generate(root / "train.csv", 2_000, 21)
    train(root / "train.csv", root / "model", TrainConfig(seed=21), progress=False)
    return root / "model"


def test_the_top_reasons_agree_with_shap(trained: Path) -> None:
    forest = CompiledForest.from_bytes((trained / COMPACT_FILE).read_bytes())
    model = pickle.loads((trained / MODEL_FILE).read_bytes())
    assert forest.depth == 4
    assert len(forest.classes) >= 5
    rng = np.random.default_rng(22)
    owned = (rng.random((200, len(PRODUCT_CODES))) < 0.15).astype(float)
    owned[rng.random(200) < 0.2] = np.nan
    X = features.encode(random_profiles(200, rng), owned)
    explainer = shap.TreeExplainer(model, model_output="raw")  # path-dependent: node covers
    expected = np.asarray(explainer.shap_values(X)).transpose(0, 2, 1)  # (n, K, F)
    np.testing.assert_allclose(base_values(forest), explainer.expected_value, atol=1e-9)
    scores = forest.predict_proba(X)
    agree = total = 0
    for x, row, theirs in zip(X, scores, expected, strict=True):
        recommended = np.argsort(-row, kind="stable")[:TOP_K]
        ours = contributions(forest, x, recommended)
        np.testing.assert_allclose(ours, theirs[recommended], rtol=0, atol=1e-9)
        agree += int((ours.argmax(axis=1) == theirs[recommended].argmax(axis=1)).sum())
        total += len(recommended)
    assert agree / total >= 0.9
