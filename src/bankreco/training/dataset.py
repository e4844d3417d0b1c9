"""Training examples from monthly snapshots: who added which product, given last month."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from bankreco import features
from bankreco.catalog import PRODUCT_CODES

FloatArray = npt.NDArray[np.float64]
MIN_CLASS_EXAMPLES = 20


def previous_month(month: str) -> str:
    """The snapshot date one month before `month` (`YYYY-MM-DD`, day kept)."""
    year, mon, day = (int(part) for part in month.split("-"))
    year, mon = (year - 1, 12) if mon == 1 else (year, mon - 1)
    return f"{year:04d}-{mon:02d}-{day:02d}"


@dataclass
class MonthPair:
    """Customers present in a month and the month before it."""

    month: str
    ncodpers: npt.NDArray[np.int64]
    profile: dict[str, Any]
    owned_before: npt.NDArray[np.float32]  # (n, 24) 0/1, NaN unknown
    owned_now: npt.NDArray[np.float32]

    @property
    def added(self) -> npt.NDArray[np.bool_]:
        """(n, 24): held now and not held last month."""
        return (np.nan_to_num(self.owned_now) > 0) & ~(np.nan_to_num(self.owned_before) > 0)

    def encode(
        self, with_products: bool = True, rows: npt.NDArray[np.intp] | None = None
    ) -> FloatArray:
        """Features of the customers at `rows` (default: all); without products, holdings
        read as a constant 0."""
        profile = self.profile if rows is None else {k: v[rows] for k, v in self.profile.items()}
        held = self.owned_before if rows is None else self.owned_before[rows]
        owned = np.nan_to_num(held) if with_products else np.zeros_like(held)
        return features.encode(profile, owned)


def month_pair(frame: pd.DataFrame, month: str) -> MonthPair:
    """Join `month` with the month before it on ncodpers (customers in both)."""
    months = frame["fecha_dato"].astype(str)
    now = frame[months == month].drop_duplicates("ncodpers").set_index("ncodpers")
    before = (
        frame[months == previous_month(month)].drop_duplicates("ncodpers").set_index("ncodpers")
    )
    ids = now.index.intersection(before.index)
    if len(ids) == 0:
        raise ValueError(f"no customers in both {previous_month(month)} and {month}")
    now, before = now.loc[ids], before.loc[ids]
    if not any(code in frame.columns for code in PRODUCT_CODES):
        raise ValueError("the file has no product columns: it cannot be used for training")

    def flags(part: pd.DataFrame) -> npt.NDArray[np.float32]:
        # A product the file lacks (a bank that does not sell it) is never held.
        held = part.reindex(columns=list(PRODUCT_CODES), fill_value=0.0)
        return held.to_numpy(dtype=np.float32, na_value=np.nan)

    profile = {name: now[name].to_numpy(dtype=object) for name in features.RAW_FIELDS}
    for name in features.NUMERIC:
        profile[name] = now[name].to_numpy(dtype=np.float64, na_value=np.nan)
    return MonthPair(month, ids.to_numpy(np.int64), profile, flags(before), flags(now))


@dataclass
class Examples:
    """One row per (customer, added product): features and the product as the label."""

    X: FloatArray
    y: npt.NDArray[np.str_]
    summary: dict[str, Any] = field(default_factory=dict)

    def common(self, min_share: float, min_count: int = MIN_CLASS_EXAMPLES) -> Examples:
        """Only the products added often enough to be learned (at least `min_share` of the
        additions and `min_count` examples); the others are listed in the summary."""
        labels, counts = np.unique(self.y, return_counts=True)
        keep = labels[(counts >= min_count) & (counts >= min_share * len(self.y))]
        if len(keep) < 2:
            raise ValueError(
                f"fewer than two products are added often enough to learn ({min_count} times and "
                f"{min_share:.1%} of the {len(self.y):,} additions in the training months): "
                "train on more customers or more months"
            )
        rows = np.isin(self.y, keep)
        left_out = sorted(set(labels) - set(keep))
        return Examples(self.X[rows], self.y[rows], {**self.summary, "products_left_out": left_out})


def addition_examples(
    pairs: Iterable[MonthPair], *, mask_fraction: float = 0.0, seed: int = 0
) -> tuple[Examples, Examples]:
    """Examples from every addition in `pairs`, with last month's products and without them
    (the demographics-only baseline). Only the customers who added something are encoded, and
    each month can be dropped once read, so memory follows the additions, not the file.

    `mask_fraction` of the rows with products get them set unknown, so the model also learns
    to answer for clients that do not send the customer's holdings.
    """
    rng = np.random.default_rng(seed)
    with_products, without, labels, months = [], [], [], []
    counts = dict.fromkeys(PRODUCT_CODES, 0)
    customer_months = 0
    for pair in pairs:
        added = pair.added
        rows, cols = np.nonzero(added)
        X = pair.encode(True, rows)
        if mask_fraction > 0:
            masked = rng.random(len(rows)) < mask_fraction
            X[np.ix_(masked, np.arange(len(features.PROFILE_FEATURES), X.shape[1]))] = np.nan
        with_products.append(X)
        without.append(pair.encode(False, rows))
        labels.append(np.asarray(PRODUCT_CODES)[cols])
        for code, n in zip(PRODUCT_CODES, added.sum(axis=0), strict=True):
            counts[code] += int(n)
        months.append(pair.month)
        customer_months += len(pair.ncodpers)
    if sum(len(b) for b in labels) == 0:
        raise ValueError("no additions in the training months: nothing to learn from")
    summary = {
        "months": months,
        "customer_months": customer_months,
        "additions": int(sum(counts.values())),
        "addition_counts": counts,
    }
    y = np.concatenate(labels)
    return Examples(np.vstack(with_products), y, summary), Examples(np.vstack(without), y, summary)
