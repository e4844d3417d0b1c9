"""Training examples: additions between two months, rare products, hidden holdings."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bankreco import features
from bankreco.catalog import PRODUCT_CODES, PROFILE_FIELDS
from bankreco.training.dataset import Examples, addition_examples, month_pair, previous_month
from bankreco.training.train import default_months


def frame(holdings: dict[str, dict[int, set[str]]]) -> pd.DataFrame:
    rows = []
    for month, customers in holdings.items():
        for customer, held in customers.items():
            row = {"fecha_dato": month, "ncodpers": customer}
            row |= dict.fromkeys(PROFILE_FIELDS, np.nan) | {"age": 30.0, "sexo": "H"}
            row |= {code: float(code in held) for code in PRODUCT_CODES}
            rows.append(row)
    return pd.DataFrame(rows)


def test_additions_are_products_held_now_and_not_last_month() -> None:
    data = frame(
        {
            "2016-04-28": {1: {"ind_cco_fin_ult1"}, 2: set(), 3: {"ind_recibo_ult1"}},
            "2016-05-28": {
                1: {"ind_cco_fin_ult1", "ind_recibo_ult1"},
                2: set(),
                4: {"ind_cco_fin_ult1"},
            },
        }
    )
    pair = month_pair(data, "2016-05-28")
    assert list(pair.ncodpers) == [1, 2]  # customers in both months only
    added = pair.added
    assert added.sum() == 1
    assert added[0, PRODUCT_CODES.index("ind_recibo_ult1")]
    examples, baseline = addition_examples([pair])
    assert (baseline.y == examples.y).all()
    assert (baseline.X[:, len(features.PROFILE_FEATURES) :] == 0).all()
    assert list(examples.y) == ["ind_recibo_ult1"]
    assert examples.X.shape == (1, len(features.FEATURE_NAMES))
    assert examples.summary["additions"] == 1


def test_hidden_holdings_fraction_and_rare_products() -> None:
    rng = np.random.default_rng(0)
    X = rng.random((1000, len(features.FEATURE_NAMES)))
    y = np.array(["ind_recibo_ult1"] * 600 + ["ind_cco_fin_ult1"] * 395 + ["ind_aval_fin_ult1"] * 5)
    common = Examples(X, y, {"additions": 1000}).common(min_share=0.002)
    assert set(common.y) == {"ind_recibo_ult1", "ind_cco_fin_ult1"}
    assert common.summary["products_left_out"] == ["ind_aval_fin_ult1"]
    with pytest.raises(ValueError, match="fewer than two"):
        Examples(X, y, {}).common(min_share=0.5)


def test_months_and_the_default_recipe() -> None:
    assert previous_month("2016-01-28") == "2015-12-28"
    months = [f"2015-{m:02d}-28" for m in range(1, 13)] + [f"2016-{m:02d}-28" for m in range(1, 6)]
    assert default_months(months, all_months=False) == [
        "2015-06-28", "2016-01-28", "2016-02-28", "2016-03-28", "2016-04-28",
    ]  # fmt: skip
    assert "2016-05-28" in default_months(months, all_months=True)
    with pytest.raises(ValueError, match="two consecutive"):
        default_months(["2016-05-28"], all_months=False)
