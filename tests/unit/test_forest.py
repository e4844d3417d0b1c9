"""The compact form gives the estimator's own probabilities and rankings."""

from __future__ import annotations

import io

import numpy as np
import pytest
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import HistGradientBoostingClassifier

from bankreco import features
from bankreco.catalog import PRODUCT_CODES
from bankreco.domain.forest import CHUNK, FEW, CompiledForest, NotCompilable, compile_forest
from tests.conftest import random_profiles


def dataset(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    owned = (rng.random((n, len(PRODUCT_CODES))) < 0.15).astype(float)
    owned[rng.random(n) < 0.2] = np.nan  # holdings unknown, as in training
    X = features.encode(random_profiles(n, rng), owned)
    score = X[:, 1] / 30 + np.nan_to_num(X[:, 9 + 2]) * 2 + rng.normal(0, 1, n)
    labels = np.array(PRODUCT_CODES[:12])
    y = labels[np.clip((score * 2).astype(int) % 12, 0, 11)]
    return X, y


@pytest.mark.parametrize(("depth", "classes"), [(3, 12), (4, 12), (6, 12), (4, 2)])
def test_same_probabilities_and_rankings_on_many_profiles(depth: int, classes: int) -> None:
    X, y = dataset(6000, depth)
    y = y if classes > 2 else np.where(y == y[0], "ind_cco_fin_ult1", "ind_recibo_ult1")
    estimator = HistGradientBoostingClassifier(max_iter=30, max_depth=depth, random_state=0)
    estimator.fit(X[:3000], y[:3000])
    fast = CompiledForest.from_bytes(compile_forest(estimator).to_bytes())
    expected, got = estimator.predict_proba(X), fast.predict_proba(X)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)
    ranks = np.argsort(-expected, axis=1, kind="stable")
    assert (np.argsort(-got, axis=1, kind="stable") == ranks).all()
    assert list(fast.classes_) == list(estimator.classes_)
    one = fast.predict_proba(X[:1])
    np.testing.assert_allclose(one, expected[:1], rtol=0, atol=1e-12)


def test_what_has_no_compact_form_is_refused() -> None:
    X, y = dataset(2000, 1)
    with pytest.raises(NotCompilable, match="DummyClassifier"):
        compile_forest(DummyClassifier().fit(X, y))
    deep = HistGradientBoostingClassifier(max_iter=2, max_leaf_nodes=64, min_samples_leaf=2)
    with pytest.raises(NotCompilable, match="depth"):
        compile_forest(deep.fit(X[:800], y[:800]))


def test_stored_form_loads_without_pickle() -> None:
    X, y = dataset(2000, 2)
    forest = compile_forest(HistGradientBoostingClassifier(max_iter=5, max_depth=3).fit(X, y))
    data = forest.to_bytes()
    assert b"sklearn" not in data
    assert CompiledForest.from_bytes(data).depth == forest.depth
    arrays = dict(np.load(io.BytesIO(data), allow_pickle=False))
    buffer = io.BytesIO()
    np.savez(buffer, **{**arrays, "format": np.array(2)})
    with pytest.raises(ValueError, match="format 2"):
        CompiledForest.from_bytes(buffer.getvalue())


def test_every_batch_size_gives_the_estimators_answers() -> None:
    """Both ways of testing rows (one gather up to FEW rows, per feature above) and the
    chunking: sizes on each side of their bounds, a word (64 rows) and a byte (8)."""
    X, y = dataset(3000, 5)
    estimator = HistGradientBoostingClassifier(max_iter=10, max_depth=4, random_state=0)
    fast = compile_forest(estimator.fit(X[:1500], y[:1500]))
    for n in (1, 7, 8, 9, FEW - 1, FEW, FEW + 1, 200, CHUNK, CHUNK + 1, 2 * CHUNK + 3):
        rows = X[-n:]
        np.testing.assert_allclose(
            fast.predict_proba(rows), estimator.predict_proba(rows), rtol=0, atol=1e-12
        )


def test_a_row_alone_gives_the_estimators_answer() -> None:
    """A single row walks the trees node by node instead of as bits: 500 rows one at a time
    and together, missing values sent either way included."""
    X, y = dataset(3000, 6)
    estimator = HistGradientBoostingClassifier(max_iter=10, max_depth=4, random_state=0)
    fast = compile_forest(estimator.fit(X[:1500], y[:1500]))
    rows = X[-500:]
    assert np.isnan(rows).any(axis=1).sum() > 50
    assert not fast.nan_left.all()
    assert (np.isinf(fast.threshold) & ~fast.nan_left).any()  # a test splitting NaN from numbers
    alone = np.vstack([fast.predict_proba(row[None]) for row in rows])
    np.testing.assert_allclose(alone, estimator.predict_proba(rows), rtol=0, atol=1e-12)
    np.testing.assert_allclose(alone, fast.predict_proba(rows), rtol=0, atol=1e-12)
