"""Exact TreeSHAP contributions on the compact forest: numpy only, a few classes at a time.

A product's raw score (its log-odds, `CompiledForest.raw`) is split among the 33 features:
the contributions of one profile add up to its raw score minus the class's base value, the
raw score the forest gives in expectation over its training examples (local accuracy).

They are the path-dependent Shapley values of Lundberg et al. ("Consistent Individualized
Feature Attribution for Tree Ensembles", 2018), as shap's TreeExplainer computes them with
`feature_perturbation="tree_path_dependent"`: a feature left out of a coalition follows
every branch at its splits, weighted by the training examples that went each way (the
nodes' covers). Rather than the paper's recursion, each leaf is taken alone. Along its path
of `depth` splits, a feature that the profile's value sends the leaf's way at all its splits
there has o = 1 (else 0), and z, the product of the cover shares of its branches on the path.
The leaf's value v is reached by a coalition S with weight prod_{S} o * prod_{not S} z, a
product game whose Shapley value for feature i is

    v * (o_i - z_i) * sum_s w(s) * e_s(z_j + o_j t : j != i),   w(s) = s! (m-1-s)! / m!

where e_s is the coefficient of t**s of the product and m the path's length. A feature met
twice on a path is one player (its o multiplied, its z multiplied); its second split is a
dummy player (o = z = 1), which changes no Shapley value. Every complete tree has paths of
the same length, so the leaves of all the trees asked for are computed as one array.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from math import factorial
from typing import Final

import numpy as np
import numpy.typing as npt

from bankreco.domain.forest import CompiledForest
from bankreco.errors import ExplanationUnavailable

Floats = npt.NDArray[np.float64]
Indexes = npt.NDArray[np.intp]


@dataclass(frozen=True)
class _Paths:
    """What the explanations need of a forest, built once: each leaf's path, level by level
    (the leading axis D of every array), so that each step works on whole rows."""

    node: Indexes  # (D, L): the internal node at each level of each leaf's path
    right: npt.NDArray[np.bool_]  # (D, L): the path goes right there
    feature: Indexes  # (D, T, L): the feature split on at each level (player p is level p)
    levels: npt.NDArray[np.uint8]  # (D, T, L): bit d set if level d's split is player p's
    zero: Floats  # (D, T, L): each player's share of the covers (1: a dummy player)
    value: Floats  # (T, L): the leaves' values
    base: Floats  # the base value of each of `CompiledForest.raw`'s columns
    trees: list[Indexes]  # the trees of each raw score


_PATHS: Final[weakref.WeakKeyDictionary[CompiledForest, _Paths]] = weakref.WeakKeyDictionary()


def paths_of(forest: CompiledForest) -> _Paths:
    """The paths of `forest`'s leaves, computed on its first explanation and kept with it."""
    paths = _PATHS.get(forest)
    if paths is None:
        paths = _PATHS[forest] = _build_paths(forest)
    return paths


def _build_paths(forest: CompiledForest) -> _Paths:
    if forest.cover is None:
        raise ExplanationUnavailable(
            "the model's compact form has no node covers: retrain it to explain its scores"
        )
    depth, internal = forest.depth, forest.feature.shape[1]
    heap = np.empty((depth + 1, internal + 1), dtype=np.intp)  # each leaf's path, root first
    heap[depth] = np.arange(internal, 2 * internal + 1)
    for level in range(depth - 1, -1, -1):
        heap[level] = (heap[level + 1] - 1) // 2
    node, right = heap[:-1], heap[1:] % 2 == 0  # children of p: 2p + 1 and 2p + 2
    feature = np.moveaxis(forest.feature[:, node], 1, 0)  # (D, T, L)
    parent, child = (np.moveaxis(forest.cover[:, at], 1, 0) for at in (node, heap[1:]))
    share = np.divide(child, parent, out=np.zeros(child.shape), where=parent > 0)
    first = np.argmax(feature[:, None] == feature[None], axis=0)  # (D, T, L): its player
    player = np.arange(depth)[:, None, None, None]
    owns = first[None] == player  # (D players, D levels, T, L)
    levels = np.packbits(owns, axis=1, bitorder="little")[:, 0]
    zero = np.where(owns, share[None], 1.0).prod(axis=1)
    expected = (forest.leaf * share.prod(axis=0)).sum(axis=1)  # (T,)
    columns = len(forest.baseline)
    base = forest.baseline + np.bincount(forest.tree_class, expected, columns)
    trees = [np.flatnonzero(forest.tree_class == k) for k in range(columns)]
    return _Paths(node, right, feature, levels, zero, forest.leaf, base, trees)


def base_values(forest: CompiledForest) -> Floats:
    """(K,): each class's raw score in expectation over the training examples."""
    base = paths_of(forest).base
    return np.concatenate([-base, base]) if _binary(forest) else base


def contributions(forest: CompiledForest, x: Floats, classes: Indexes) -> Floats:
    """(len(classes), F): each feature's contribution to the raw scores of `classes`
    (indexes into `forest.classes`) of the encoded profile `x` (F,). Row i adds up to the raw
    score of class `classes[i]` minus its base value (`base_values`). The raw score of class
    k is column k of `forest.raw`; a binary forest has one column, class 1's (class 0's is
    its negation)."""
    if not _binary(forest):
        return _contributions(paths_of(forest), forest, x, classes)
    one = _contributions(paths_of(forest), forest, x, np.zeros(1, dtype=np.intp))
    result: Floats = np.where(classes == 1, 1.0, -1.0)[:, None] * one
    return result


def _binary(forest: CompiledForest) -> bool:
    return len(forest.baseline) == 1 < len(forest.classes)


def _contributions(paths: _Paths, forest: CompiledForest, x: Floats, columns: Indexes) -> Floats:
    """`contributions` to the raw score `columns` (indexes into `forest.raw`'s columns)."""
    trees = np.concatenate([paths.trees[c] for c in columns])
    value = x.take(forest.feature[trees])
    went_right = value > forest.threshold[trees]  # as the forest's own walk: NaN goes left...
    missing = np.isnan(value)
    if missing.any():  # ...unless the split sends it right
        went_right |= missing & ~forest.nan_left[trees]
    strayed = went_right[:, paths.node] != paths.right  # (T, D, L): x leaves the leaf's path
    bits = np.packbits(strayed, axis=1, bitorder="little")[:, 0]  # (T, L)
    one = (paths.levels[:, trees] & bits) == 0  # (D, T, L): x takes the leaf's way
    depth, size = len(paths.node), bits.size
    phi = _shapley(one.reshape(depth, size), paths.zero[:, trees].reshape(depth, size))
    phi *= paths.value[trees].reshape(size)
    owner = np.repeat(np.arange(len(columns)) * len(x), [len(paths.trees[c]) for c in columns])
    at = owner[:, None] + paths.feature[:, trees]  # (D, T, L): row and feature of each player
    summed = np.bincount(at.ravel(), phi.ravel(), len(columns) * len(x))
    return summed.astype(np.float64, copy=False).reshape(-1, len(x))


def _shapley(one: npt.NDArray[np.bool_], zero: Floats) -> Floats:
    """(m, N): each player's Shapley value in N product games of unit value whose m players
    have the fractions o (`one`) and z (`zero`), both (m, N). The product of the factors
    (z_j + o_j t) of the other players is that of those before and those after."""
    m = len(one)
    ones = one.astype(np.float64)
    before = [np.ones((1, one.shape[1]))]  # before[i]: of players 0 .. i-1
    after = [np.ones((1, one.shape[1]))]  # after[k]: of the k last players
    for j in range(m - 1):
        before.append(_times(before[-1], ones[j], zero[j]))
        after.append(_times(after[-1], ones[m - 1 - j], zero[m - 1 - j]))
    phi = np.empty_like(zero)
    for i in range(m):
        weighted = _WEIGHTS[m][i] @ after[m - 1 - i]  # (i + 1, N)
        weighted *= before[i]
        weighted.sum(axis=0, out=phi[i])
    phi *= ones - zero
    return phi


def _times(poly: Floats, one: Floats, zero: Floats) -> Floats:
    """The coefficients (by power of t) of `poly` times (z + o t), all N at once."""
    out = np.empty((len(poly) + 1, poly.shape[1]))
    np.multiply(poly, zero, out=out[:-1])
    out[-1] = 0.0
    out[1:] += poly * one
    return out


def _shapley_weights(m: int) -> list[Floats]:
    """For each player i of m: w(a + b) for a players before it and b after it in a
    coalition (the Shapley weight of a coalition of a + b others)."""
    w = np.array([factorial(s) * factorial(m - 1 - s) / factorial(m) for s in range(m)])
    return [w[np.add.outer(np.arange(i + 1), np.arange(m - i))] for i in range(m)]


_WEIGHTS: Final = {m: _shapley_weights(m) for m in range(1, 9)}
