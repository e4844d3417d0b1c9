"""A compact, numpy-only form of a fitted HistGradientBoostingClassifier.

Every tree is padded to a complete binary tree of one depth, so all trees of all rows are
walked together, one level per numpy step; no per-tree Python and no scikit-learn import at
serving time. The arrays are stored with `np.savez` (no pickle). It gives the estimator's own
probabilities: the same thresholds, the same missing-value directions, the same sums.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import numpy.typing as npt

MAX_DEPTH: Final = 8
FORMAT: Final = 1
CHUNK: Final = 128  # rows walked together: keeps the (rows, trees) arrays in cache


class NotCompilable(ValueError):
    """The estimator has no compact form (another estimator, categorical splits, too deep)."""


@dataclass
class CompiledForest:
    """Trees of depth `depth` as arrays; tree t adds to the raw score of class `tree_class[t]`.

    Many nodes share a test (feature, threshold, missing direction): each distinct test is
    evaluated once per row, and the walk then only looks results up.
    """

    classes: npt.NDArray[np.str_]
    baseline: npt.NDArray[np.float64]  # (K,)
    feature: npt.NDArray[np.intp]  # (T, 2**depth - 1)
    threshold: npt.NDArray[np.float64]  # (T, 2**depth - 1)
    nan_left: npt.NDArray[np.bool_]  # (T, 2**depth - 1)
    leaf: npt.NDArray[np.float64]  # (T, 2**depth)
    tree_class: npt.NDArray[np.intp]  # (T,)
    _test_feature: npt.NDArray[np.intp] = field(init=False, repr=False)
    _test_threshold: npt.NDArray[np.float64] = field(init=False, repr=False)
    _test_nan_right: npt.NDArray[np.bool_] = field(init=False, repr=False)
    _node_test: npt.NDArray[np.intp] = field(init=False, repr=False)  # (T * internal,)
    _by_class: npt.NDArray[np.float64] = field(init=False, repr=False)  # (T, K)

    def __post_init__(self) -> None:
        trees = len(self.tree_class)
        tests = np.stack(
            [
                self.feature.ravel().astype(np.float64),
                self.threshold.ravel(),
                (~self.nan_left.ravel()).astype(np.float64),
            ],
            axis=1,
        )
        unique, self._node_test = np.unique(tests, axis=0, return_inverse=True)
        self._node_test = self._node_test.ravel().astype(np.intp)
        self._test_feature = unique[:, 0].astype(np.intp)
        self._test_threshold = unique[:, 1]
        self._test_nan_right = unique[:, 2].astype(bool)
        self._by_class = np.zeros((trees, len(self.baseline)))
        self._by_class[np.arange(trees), self.tree_class] = 1.0

    @property
    def depth(self) -> int:
        return int(self.leaf.shape[1]).bit_length() - 1

    @property
    def classes_(self) -> npt.NDArray[np.str_]:
        """Named like scikit-learn's attribute, so either can be served."""
        return self.classes

    def raw(self, X: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """Raw scores (n, K): baseline plus the leaf values each row reaches."""
        if len(X) <= CHUNK:
            return self._raw(X)
        return np.vstack([self._raw(X[i : i + CHUNK]) for i in range(0, len(X), CHUNK)])

    def _raw(self, X: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        n, trees = len(X), len(self.tree_class)
        internal, leaves = self.feature.shape[1], self.leaf.shape[1]
        values = X[:, self._test_feature]
        right = values > self._test_threshold  # (n, tests): NaN compares False
        right |= np.isnan(values) & self._test_nan_right
        flat_right = right.ravel()
        row_start = (np.arange(n) * right.shape[1])[:, None]
        tree_start = np.arange(trees) * internal
        node = 1 + right[:, self._node_test[tree_start]]  # level 0: every row at the root
        for _ in range(1, self.depth):
            node = 2 * node + 1 + flat_right[row_start + self._node_test[node + tree_start]]
        reached = self.leaf.ravel()[node - internal + np.arange(trees) * leaves]
        raw: npt.NDArray[np.float64] = reached @ self._by_class + self.baseline
        return raw

    def predict_proba(self, X: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        raw = self.raw(X)
        if len(self.classes) == 2:
            p = 1.0 / (1.0 + np.exp(-raw[:, 0]))
            return np.column_stack([1.0 - p, p])
        raw -= raw.max(axis=1, keepdims=True)
        np.exp(raw, out=raw)
        raw /= raw.sum(axis=1, keepdims=True)
        return raw

    def to_bytes(self) -> bytes:
        buffer = io.BytesIO()
        np.savez(buffer, format=np.array(FORMAT), **{k: getattr(self, k) for k in _FIELDS})
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> CompiledForest:
        with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
            if int(arrays["format"]) != FORMAT:
                raise ValueError(f"compact model format {int(arrays['format'])} is not {FORMAT}")
            return cls(**{k: arrays[k] for k in _FIELDS})


_FIELDS: Final = ("classes", "baseline", "feature", "threshold", "nan_left", "leaf", "tree_class")


def compile_forest(estimator: Any) -> CompiledForest:
    """The compact form of a fitted HistGradientBoostingClassifier, or NotCompilable."""
    predictors = getattr(estimator, "_predictors", None)
    if type(estimator).__name__ != "HistGradientBoostingClassifier" or not predictors:
        raise NotCompilable(f"{type(estimator).__name__} has no compact form")
    trees = [(k, p.nodes) for iteration in predictors for k, p in enumerate(iteration)]
    if any(nodes["is_categorical"].any() for _, nodes in trees):
        raise NotCompilable("categorical splits have no compact form")
    depth = max(1, *(int(nodes["depth"].max()) for _, nodes in trees))
    if depth > MAX_DEPTH:
        raise NotCompilable(f"trees of depth {depth} exceed {MAX_DEPTH}: train with max_depth")
    internal, leaves = 2**depth - 1, 2**depth
    shape = (len(trees), internal)
    feature = np.zeros(shape, dtype=np.intp)
    threshold = np.full(shape, np.inf)
    nan_left = np.ones(shape, dtype=bool)
    leaf = np.zeros((len(trees), leaves))
    for t, (_, nodes) in enumerate(trees):
        stack = [(0, 0, 0)]  # (position in the complete tree, sklearn node, level)
        while stack:
            position, index, level = stack.pop()
            node = nodes[index]
            if level == depth:
                leaf[t, position - internal] = node["value"]
                continue
            if node["is_leaf"]:  # pad: an always-left test whose both sides keep the leaf
                stack += [
                    (2 * position + 1, index, level + 1),
                    (2 * position + 2, index, level + 1),
                ]
                continue
            feature[t, position] = node["feature_idx"]
            threshold[t, position] = node["num_threshold"]
            nan_left[t, position] = node["missing_go_to_left"]
            stack += [
                (2 * position + 1, int(node["left"]), level + 1),
                (2 * position + 2, int(node["right"]), level + 1),
            ]
    return CompiledForest(
        classes=np.asarray(estimator.classes_).astype(str),
        baseline=np.asarray(estimator._baseline_prediction, dtype=np.float64).ravel(),
        feature=feature,
        threshold=threshold,
        nan_left=nan_left,
        leaf=leaf,
        tree_class=np.array([k for k, _ in trees], dtype=np.intp),
    )
