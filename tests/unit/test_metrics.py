"""MAP@7 against hand-computed examples."""

from __future__ import annotations

import numpy as np
import pytest

from bankreco.metrics import average_precision, map_at_k, perfect_map


def test_average_precision_by_hand() -> None:
    # hits at ranks 1 and 3 of 2 actual items: (1/1 + 2/3) / 2
    assert average_precision({5, 9}, [5, 1, 9, 2]) == pytest.approx((1 + 2 / 3) / 2)
    assert average_precision({4}, [1, 2, 3, 4]) == pytest.approx(1 / 4)
    assert average_precision(set(), [1, 2]) == 0.0
    assert average_precision({8}, [1, 2, 3, 4, 5, 6, 7, 8]) == 0.0  # beyond 7


def test_map_matches_the_per_customer_definition() -> None:
    rng = np.random.default_rng(3)
    added = rng.random((300, 24)) < 0.05
    scores = rng.random((300, 24))
    expected = np.mean(
        [
            average_precision(set(np.flatnonzero(a)), list(np.argsort(-s, kind="stable")))
            for a, s in zip(added, scores, strict=True)
        ]
    )
    assert map_at_k(added, scores) == pytest.approx(expected)


def test_customers_who_add_nothing_count_as_zero() -> None:
    added = np.zeros((4, 24), dtype=bool)
    added[0, 2] = True
    scores = np.zeros((4, 24))
    scores[:, 2] = 1.0
    assert map_at_k(added, scores) == pytest.approx(0.25)
    assert perfect_map(added) == pytest.approx(0.25)


def test_more_than_seven_additions_are_capped() -> None:
    added = np.zeros((1, 24), dtype=bool)
    added[0, :10] = True
    scores = -np.arange(24, dtype=float)[None, :]
    assert map_at_k(added, scores) == pytest.approx(1.0)


def test_shapes_must_agree() -> None:
    with pytest.raises(ValueError, match="shapes"):
        map_at_k(np.zeros((2, 24), dtype=bool), np.zeros((3, 24)))
