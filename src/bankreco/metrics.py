"""MAP@7 as the Kaggle competition computed it."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

K = 7


def average_precision(actual: set[int], predicted: list[int], k: int = K) -> float:
    """AP@k of one customer: 0 when they added nothing, as on the leaderboard."""
    if not actual:
        return 0.0
    hits, total = 0, 0.0
    for rank, item in enumerate(predicted[:k], start=1):
        if item in actual and item not in predicted[: rank - 1]:
            hits += 1
            total += hits / rank
    return total / min(len(actual), k)


def average_precisions(
    added: npt.NDArray[np.bool_], scores: npt.NDArray[np.float64], k: int = K
) -> npt.NDArray[np.float64]:
    """AP@k of each customer (row): `added` marks the truth, `scores` rank products; 0 for a
    customer who added nothing."""
    if added.shape != scores.shape:
        raise ValueError(f"shapes differ: {added.shape} vs {scores.shape}")
    top = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    hit = np.take_along_axis(added, top, axis=1)
    precision = np.cumsum(hit, axis=1) / np.arange(1, hit.shape[1] + 1)
    denominator = np.minimum(added.sum(axis=1), k)
    ap: npt.NDArray[np.float64] = np.divide(
        (precision * hit).sum(axis=1),
        denominator,
        out=np.zeros(len(added)),
        where=denominator > 0,
    )
    return ap


def map_at_k(added: npt.NDArray[np.bool_], scores: npt.NDArray[np.float64], k: int = K) -> float:
    """Mean AP@k over every customer (row): `added` marks the truth, `scores` rank products."""
    ap = average_precisions(added, scores, k)
    return float(ap.mean()) if len(ap) else 0.0


def perfect_map(added: npt.NDArray[np.bool_]) -> float:
    """The best reachable MAP@7: the share of customers who added anything."""
    return float(added.any(axis=1).mean()) if len(added) else 0.0
