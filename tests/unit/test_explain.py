"""Contributions on the compact forest: exact path-dependent Shapley values that add up to
each class's raw score minus its base value."""

from __future__ import annotations

import io
from itertools import combinations
from math import factorial
from typing import Any

import numpy as np
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier

from bankreco import features
from bankreco.catalog import PRODUCT_CODES
from bankreco.domain.explain import base_values, contributions
from bankreco.domain.forest import CompiledForest, compile_forest
from bankreco.errors import ExplanationUnavailable
from tests.conftest import random_profiles

LABELS = np.array(["ind_cco_fin_ult1", "ind_recibo_ult1", "ind_ecue_fin_ult1", "ind_tjcr_fin_ult1"])


def examples(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Encoded random profiles, unknown incomes and holdings included, and labels that
    depend on age, income and two holdings."""
    rng = np.random.default_rng(seed)
    owned = (rng.random((n, len(PRODUCT_CODES))) < 0.2).astype(float)
    owned[rng.random(n) < 0.2] = np.nan
    X = features.encode(random_profiles(n, rng), owned)
    score = X[:, 1] / 25 + np.nan_to_num(X[:, 5], nan=3e5) / 5e4 + 2 * np.nan_to_num(X[:, 11])
    score += 3 * np.nan_to_num(X[:, 32], nan=0.5) + rng.normal(0, 1, n)
    return X, LABELS[np.clip(score.astype(int) % len(LABELS), 0, len(LABELS) - 1)]


def fitted(X: np.ndarray, y: np.ndarray, **options: Any) -> HistGradientBoostingClassifier:
    settings = {"max_iter": 20, "max_depth": 4, "max_leaf_nodes": 15, "learning_rate": 0.25}
    model = HistGradientBoostingClassifier(**{**settings, **options}, random_state=0)
    return model.fit(X, y)


@pytest.fixture(scope="module")
def forest() -> CompiledForest:
    X, y = examples(4000, 0)
    return CompiledForest.from_bytes(compile_forest(fitted(X, y)).to_bytes())


def test_contributions_add_up_to_the_raw_score_minus_the_base_value(
    forest: CompiledForest,
) -> None:
    X, _ = examples(200, 1)
    assert np.isnan(X).any(axis=1).sum() > 40
    assert (~forest.nan_left).any()  # some splits send unknown values right
    every = np.arange(len(forest.classes))
    expected = forest.raw(X) - base_values(forest)
    found = np.stack([contributions(forest, x, every) for x in X])  # (n, K, F)
    np.testing.assert_allclose(found.sum(axis=2), expected, rtol=0, atol=1e-10)
    assert (np.abs(found) > 1e-3).sum(axis=(0, 1)).astype(bool).sum() >= 4  # many features
    for x, alone in zip(X[:20], found[:20], strict=True):  # the classes asked, in their order
        asked = np.array([2, 0])
        np.testing.assert_allclose(contributions(forest, x, asked), alone[asked], atol=1e-12)


def test_the_base_value_is_the_cover_weighted_mean_score(forest: CompiledForest) -> None:
    """A forest's base value is its raw score averaged over the examples it was fitted on,
    each tree's leaves weighted by their covers; the covers add up node by node."""
    assert forest.cover is not None
    internal = forest.feature.shape[1]
    parents = np.arange(internal)
    children = forest.cover[:, 2 * parents + 1] + forest.cover[:, 2 * parents + 2]
    np.testing.assert_array_equal(forest.cover[:, parents], children)
    padded = np.isinf(forest.threshold) & forest.nan_left
    assert padded.any()
    assert (forest.cover[:, 2 * parents + 2][padded] == 0).all()  # never reached
    leaves = forest.cover[:, internal:] / forest.cover[:, :1]
    by_tree = (forest.leaf * leaves).sum(axis=1)
    expected = forest.baseline + np.bincount(forest.tree_class, by_tree, len(forest.classes))
    np.testing.assert_allclose(base_values(forest), expected, rtol=0, atol=1e-12)


def path_dependent_value(nodes: np.ndarray, x: np.ndarray, known: set[int], i: int = 0) -> float:
    """A tree's output when only the features `known` are: at a split on any other, the
    mean of both branches weighted by their training examples (scikit-learn's own nodes)."""
    node = nodes[i]
    if node["is_leaf"]:
        return float(node["value"])
    left, right = int(node["left"]), int(node["right"])
    feature = int(node["feature_idx"])
    if feature in known:
        value = x[feature]
        goes_left = (
            node["missing_go_to_left"] if np.isnan(value) else value <= node["num_threshold"]
        )
        return path_dependent_value(nodes, x, known, left if goes_left else right)
    sides = [(nodes[c]["count"], path_dependent_value(nodes, x, known, c)) for c in (left, right)]
    return float(sum(count * value for count, value in sides) / node["count"])


def brute_force_shapley(trees: list[np.ndarray], x: np.ndarray, players: list[int]) -> np.ndarray:
    """Every coalition of `players` valued on `trees` (one class's): Shapley's formula."""
    n = len(players)
    value = {
        coalition: sum(path_dependent_value(nodes, x, set(coalition)) for nodes in trees)
        for size in range(n + 1)
        for coalition in combinations(players, size)
    }
    phi = np.zeros(len(x))
    for coalition, worth in value.items():
        for i in set(players) - set(coalition):
            weight = factorial(len(coalition)) * factorial(n - len(coalition) - 1) / factorial(n)
            phi[i] += weight * (value[tuple(sorted({*coalition, i}))] - worth)
    return phi


def splits_twice(nodes: np.ndarray) -> bool:
    """A node splits on the same feature as its parent."""
    split = ~nodes["is_leaf"].astype(bool)
    children = np.concatenate([nodes["left"][split], nodes["right"][split]]).astype(int)
    parents = np.tile(nodes["feature_idx"][split], 2)
    inner = split[children]
    return bool((nodes["feature_idx"][children][inner] == parents[inner]).any())


def test_contributions_are_the_exact_shapley_values_of_a_small_forest() -> None:
    """Brute force over all coalitions of the features a small model uses (unknown values,
    features repeated on a path and padded trees included)."""
    used = [1, 3, 5, 11, 32]  # age, antiguedad, renta and two holdings: 32 coalitions
    X, y = examples(3000, 2)
    model = fitted(X[:, used], y, max_iter=4, max_depth=3, max_leaf_nodes=6)
    forest = compile_forest(model)
    assert any(map(splits_twice, [p.nodes for iteration in model._predictors for p in iteration]))
    rows = examples(30, 3)[0][:, used]
    every, players = np.arange(len(forest.classes)), list(range(len(used)))
    for x in rows:
        found = contributions(forest, x, every)
        for k in every:
            trees = [iteration[k].nodes for iteration in model._predictors]
            exact = brute_force_shapley(trees, x, players)
            np.testing.assert_allclose(found[k], exact, rtol=0, atol=1e-12)


def test_a_binary_forest_explains_both_classes() -> None:
    X, y = examples(2000, 4)
    y = np.where(y == LABELS[0], LABELS[0], LABELS[1])
    forest = compile_forest(fitted(X, y))
    assert len(forest.baseline) == 1
    rows = examples(50, 5)[0]
    raw = forest.raw(rows)[:, 0]
    both = np.stack([contributions(forest, x, np.array([1, 0])) for x in rows])
    base = base_values(forest)
    np.testing.assert_allclose(both[:, 0].sum(axis=1), raw - base[1], atol=1e-10)
    np.testing.assert_allclose(both[:, 1], -both[:, 0], atol=0)
    np.testing.assert_allclose(base[0], -base[1], atol=0)


def test_a_compact_form_without_covers_predicts_but_cannot_explain(
    forest: CompiledForest,
) -> None:
    """A file written before the covers were kept loads and predicts as before."""
    arrays = dict(np.load(io.BytesIO(forest.to_bytes()), allow_pickle=False))
    assert "cover" in arrays
    del arrays["cover"]
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    old = CompiledForest.from_bytes(buffer.getvalue())
    assert old.cover is None
    X, _ = examples(100, 6)
    np.testing.assert_array_equal(old.predict_proba(X), forest.predict_proba(X))
    with pytest.raises(ExplanationUnavailable, match="no node covers"):
        contributions(old, X[0], np.array([0]))
    with pytest.raises(ExplanationUnavailable):
        base_values(old)
