"""A compact, numpy-only form of a fitted HistGradientBoostingClassifier.

Every tree is padded to a complete binary tree of one depth. Rows are evaluated 64 at a time
as the bits of one machine word: each distinct node test is computed once per row, packed, and
all trees are walked one level per numpy step with bitwise operations; only the leaf values
are looked up row by row. A single row walks all trees at once, one node per tree per level.
No per-tree Python and no scikit-learn import at serving time. The arrays are stored with
`np.savez` (no pickle). It gives the estimator's own probabilities: the same thresholds, the
same missing-value directions, the same sums.

Each node's cover (the training examples that reached it) is kept for explanations
(bankreco.domain.explain); a file written without covers still predicts, but cannot explain.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import numpy.typing as npt

MAX_DEPTH: Final = 8
FORMAT: Final = 1
CHUNK: Final = 1024  # rows evaluated together: bounds the (trees, rows) arrays
FEW: Final = 64  # up to this many rows, one gather tests them all (per column is for many rows)
Words = npt.NDArray[np.uint64]


class NotCompilable(ValueError):
    """The estimator has no compact form (another estimator, categorical splits, too deep)."""


@dataclass(eq=False)  # compared (and hashed) by identity: the explanations are cached by forest
class CompiledForest:
    """Trees of depth `depth` as arrays; tree t adds to the raw score of class `tree_class[t]`.

    Many nodes share a test (feature, threshold, missing direction): each distinct test is
    evaluated once per row, and the walk then only combines bits.
    """

    classes: npt.NDArray[np.str_]
    baseline: npt.NDArray[np.float64]  # (K,)
    feature: npt.NDArray[np.intp]  # (T, 2**depth - 1)
    threshold: npt.NDArray[np.float64]  # (T, 2**depth - 1)
    nan_left: npt.NDArray[np.bool_]  # (T, 2**depth - 1)
    leaf: npt.NDArray[np.float64]  # (T, 2**depth)
    tree_class: npt.NDArray[np.intp]  # (T,)
    # (T, 2**(depth + 1) - 1): examples at each node, internal nodes then leaves, as in a heap
    # (children of p: 2p + 1 and 2p + 2); a padding node's right copy has none. None: unknown.
    cover: npt.NDArray[np.uint32] | None = None
    _test_feature: npt.NDArray[np.intp] = field(init=False, repr=False)  # column it reads
    _test_threshold: npt.NDArray[np.float64] = field(init=False, repr=False)  # (tests, 1)
    _nan_right_from: int = field(init=False, repr=False)  # tests from here send NaN right
    _blocks: list[tuple[int, slice, np.ufunc]] = field(init=False, repr=False)  # column, way
    _level_tests: list[npt.NDArray[np.intp]] = field(init=False, repr=False)
    _leaves: npt.NDArray[np.float64] = field(init=False, repr=False)  # `leaf`, walk's order
    _leaf_start: npt.NDArray[np.intp] = field(init=False, repr=False)  # (T, 1)
    _classes: npt.NDArray[np.intp] = field(init=False, repr=False)  # classes that have trees
    _class_start: npt.NDArray[np.intp] = field(init=False, repr=False)  # their first tree
    _node_base: npt.NDArray[np.intp] = field(init=False, repr=False)  # (T,) tree t's first node
    _leaf_base: npt.NDArray[np.intp] = field(init=False, repr=False)  # node to leaf index

    def __post_init__(self) -> None:
        trees, internal = self.feature.shape
        nan_right = ~self.nan_left.ravel()
        tests = np.stack([nan_right, self.feature.ravel(), self.threshold.ravel()], axis=1)
        unique, node_test = np.unique(tests, axis=0, return_inverse=True)  # NaN left first
        self._test_feature = unique[:, 1].astype(np.intp)
        self._test_threshold = unique[:, 2:3].astype(np.float64)
        self._nan_right_from = int(np.searchsorted(unique[:, 0], 1.0))
        way = unique[:, :2]  # (NaN right, column): the tests of a block share both
        starts = np.flatnonzero(np.r_[True, (way[1:] != way[:-1]).any(axis=1)])
        self._blocks = [
            (int(way[lo, 1]), slice(int(lo), int(hi)), np.less_equal if way[lo, 0] else np.greater)
            for lo, hi in zip(starts.tolist(), [*starts[1:].tolist(), len(unique)], strict=True)
        ]
        by_class = np.argsort(self.tree_class, kind="stable")  # the walk's order of trees
        by_node = node_test.reshape(trees, internal).astype(np.intp)[by_class]
        self._level_tests = [  # (2**level, T): the tests of each level's nodes
            np.ascontiguousarray(by_node[:, 2**level - 1 : 2 ** (level + 1) - 1].T)
            for level in range(self.depth)
        ]
        self._leaves = self.leaf[by_class]
        self._leaf_start = (np.arange(trees, dtype=np.intp) * self.leaf.shape[1])[:, None]
        self._classes, self._class_start = np.unique(self.tree_class[by_class], return_index=True)
        self._node_base = np.arange(trees, dtype=np.intp) * internal
        self._leaf_base = self._leaf_start.ravel() - internal

    @property
    def depth(self) -> int:
        return int(self.leaf.shape[1]).bit_length() - 1

    @property
    def classes_(self) -> npt.NDArray[np.str_]:
        """Named like scikit-learn's attribute, so either can be served."""
        return self.classes

    def raw(self, X: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """Raw scores (n, K): baseline plus the leaf values each row reaches."""
        if len(X) == 1:
            return self._raw_one(X[0])[None]
        if len(X) <= CHUNK:
            return self._raw(X)
        return np.vstack([self._raw(X[i : i + CHUNK]) for i in range(0, len(X), CHUNK)])

    def _raw(self, X: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        n = len(X)
        turns = self._turns(self._test_bits(X))
        # leaf index of every (tree, row): the turns read as a binary number, root first
        planes = np.unpackbits(turns.view(np.uint8), axis=2, count=n, bitorder="little")
        leaf = planes[0]
        for plane in planes[1:]:
            leaf += leaf  # a shift, but numpy adds bytes much faster
            leaf |= plane
        # intp indices (others take a slow converting path), in range by construction
        reached = np.take(self._leaves, leaf + self._leaf_start, mode="clip")  # (T, n)
        raw = np.zeros((n, len(self.baseline)))
        raw[:, self._classes] = np.add.reduceat(reached, self._class_start, axis=0).T
        raw += self.baseline
        return raw

    def _raw_one(self, x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """One row: every tree walked at once, a node per tree per level (faster than the bit
        walk, whose words would be 63/64 empty, for the single route's one profile)."""
        position = np.zeros(len(self.tree_class), dtype=np.intp)  # node in each complete tree
        missing = bool(np.isnan(x).any())
        for _ in range(self.depth):
            node = self._node_base + position
            value = x.take(self.feature.take(node))
            right = value > self.threshold.take(node)  # NaN compares False: goes left...
            if missing:  # ...unless the test sends it right
                right |= np.isnan(value) & ~self.nan_left.take(node)
            position += position + 1  # children of node p: 2p + 1 (left) and 2p + 2
            position += right
        reached = self.leaf.take(self._leaf_base + position)
        return np.bincount(self.tree_class, reached, len(self.baseline)) + self.baseline

    def _test_bits(self, X: npt.NDArray[np.float64]) -> Words:
        """(tests, words): bit r of word w is set if row 64w + r goes right at that test.

        A test goes right if `value > threshold`: NaN compares False and goes left. A test
        that sends NaN right goes right if `not value <= threshold`: computed as `<=`, its
        packed bits then inverted. That holds for NaN even at a threshold of +inf (the
        split of NaN from every number), where reading NaN as +inf would not."""
        n, k, threshold = len(X), self._nan_right_from, self._test_threshold
        bits = np.empty((len(self._test_feature), n), dtype=bool)
        if n <= FEW:
            values = X.T[self._test_feature]
            np.greater(values[:k], threshold[:k], out=bits[:k])
            np.less_equal(values[k:], threshold[k:], out=bits[k:])
        else:
            columns = np.ascontiguousarray(X.T)
            for feature, tests, compare in self._blocks:
                compare(columns[feature], threshold[tests], out=bits[tests])
        packed = np.zeros((len(bits), -(-n // 64) * 8), dtype=np.uint8)
        packed[:, : -(-n // 8)] = np.packbits(bits, axis=1, bitorder="little")
        words = packed.view(np.uint64)
        np.invert(words[k:], out=words[k:])  # also sets the padding bits: never read
        return words

    def _turns(self, bits: Words) -> Words:
        """(depth, T, words): bit set if the row turns right at that level of the tree."""
        trees, words = len(self.tree_class), bits.shape[1]
        turns = np.empty((self.depth, trees, words), dtype=np.uint64)
        here = np.full((1, trees, words), np.uint64(2**64 - 1))  # rows at each node of a level
        for level, tests in enumerate(self._level_tests):
            right = here & bits[tests]  # (2**level, T, words); a row is at one node per tree
            np.bitwise_or.reduce(right, axis=0, out=turns[level])
            if level + 1 < self.depth:  # children of node p: 2p (left) and 2p + 1
                here, parent = np.empty((2 * len(here), trees, words), dtype=np.uint64), here
                np.bitwise_xor(parent, right, out=here[0::2])
                here[1::2] = right
        return turns

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
        """The arrays as an npz file; `cover` is an optional array (readers ignore extras)."""
        arrays = {k: getattr(self, k) for k in _FIELDS}
        if self.cover is not None:
            arrays["cover"] = self.cover
        buffer = io.BytesIO()
        np.savez(buffer, format=np.array(FORMAT), **arrays)
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> CompiledForest:
        with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
            if int(arrays["format"]) != FORMAT:
                raise ValueError(f"compact model format {int(arrays['format'])} is not {FORMAT}")
            cover = arrays["cover"] if "cover" in arrays.files else None
            return cls(**{k: arrays[k] for k in _FIELDS}, cover=cover)


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
    internal = 2**depth - 1
    shape = (len(trees), internal)
    arrays = {
        "feature": np.zeros(shape, dtype=np.intp),
        "threshold": np.full(shape, np.inf),
        "nan_left": np.ones(shape, dtype=bool),
        "leaf": np.zeros((len(trees), internal + 1)),
        "cover": np.zeros((len(trees), 2 * internal + 1), dtype=np.uint32),
    }
    for t, (_, nodes) in enumerate(trees):
        _fill_tree(arrays, t, nodes)
    return CompiledForest(
        classes=np.asarray(estimator.classes_).astype(str),
        baseline=np.asarray(estimator._baseline_prediction, dtype=np.float64).ravel(),
        tree_class=np.array([k for k, _ in trees], dtype=np.intp),
        **arrays,
    )


def _fill_tree(arrays: dict[str, npt.NDArray[Any]], t: int, nodes: npt.NDArray[Any]) -> None:
    """Write scikit-learn's tree `nodes` as complete tree `t` of the forest's `arrays`. A leaf
    above the last level is padded: an always-left test whose both sides keep the leaf, its
    cover on the left side only, so the right side is never reached, even in expectation."""
    internal = arrays["feature"].shape[1]
    stack = [(0, 0, True)]  # (position in the complete tree, sklearn node, reached)
    while stack:
        position, index, reached = stack.pop()
        node = nodes[index]
        arrays["cover"][t, position] = node["count"] if reached else 0
        if position >= internal:
            arrays["leaf"][t, position - internal] = node["value"]
            continue
        if node["is_leaf"]:
            stack += [(2 * position + 1, index, reached), (2 * position + 2, index, False)]
            continue
        arrays["feature"][t, position] = node["feature_idx"]
        arrays["threshold"][t, position] = node["num_threshold"]
        arrays["nan_left"][t, position] = node["missing_go_to_left"]
        stack += [
            (2 * position + 1, int(node["left"]), reached),
            (2 * position + 2, int(node["right"]), reached),
        ]
