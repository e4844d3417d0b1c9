"""How the model's recommendations differ between groups of customers: by sex, age band and
segment, the MAP@7 of each group, the rate at which each product is recommended to it, and the
disparity ratios (the lowest group's figure over the highest's; 1 is parity).

The figures are those of fairlearn's MetricFrame (`by_group` of mean metrics, and `ratio()`,
its default "between groups" method: the smallest group figure over the largest), computed
with one pandas groupby: MetricFrame itself (fairlearn 0.15) passes every group's rows through
`np.stack` element by element for each metric, which for the ~17 metrics of each attribute
makes it slower than the rest of an evaluation, and it adds nothing training needs.
"""

from __future__ import annotations

import math
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from bankreco import features
from bankreco.catalog import PRODUCT_CODES, PRODUCTS
from bankreco.metrics import K, average_precisions

#: Groups with fewer customers are listed with their size but left out of the ratios, where
#: a handful of customers would decide the figure.
MIN_GROUP: Final = 50
UNKNOWN: Final = "unknown"
#: Age bands: (lowest age, label); each runs to the next band's lowest age.
AGE_BANDS: Final = ((0, "<25"), (25, "25-34"), (35, "35-44"), (45, "45-54"), (55, "55-64"))
AGE_BANDS_LAST: Final = (65, "65+")
_COLUMN: Final = {name: i for i, name in enumerate(features.PROFILE_FEATURES)}


def recommended(scores: features.FloatMatrix, k: int = K) -> npt.NDArray[np.bool_]:
    """(n, 24): the products in each customer's top `k` that are shown, i.e. scored above 0
    (held products, products a rule withholds and products never learned are not)."""
    top = np.zeros(scores.shape, dtype=bool)
    best = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    np.put_along_axis(top, best, True, axis=1)
    return top & (scores > 0)


def _named(codes: features.FloatMatrix, field: str) -> list[str]:
    """The values of categorical `field` its codes stand for; UNKNOWN where NaN."""
    names = {float(code): name for name, code in features.CATEGORIES[field].items()}
    return [names.get(float(code), UNKNOWN) for code in codes]


def age_band(ages: features.FloatMatrix) -> list[str]:
    """Each age's band label (UNKNOWN where NaN)."""
    bands = [*AGE_BANDS, AGE_BANDS_LAST]
    lows = np.array([low for low, _ in bands])
    labels = [label for _, label in bands]
    which = np.searchsorted(lows, np.nan_to_num(ages, nan=0.0), side="right") - 1
    return [UNKNOWN if math.isnan(a) else labels[i] for a, i in zip(ages, which, strict=True)]


def groups(encoded: features.FloatMatrix) -> dict[str, list[str]]:
    """Each customer's group by sex, age band and segment, from the encoded features."""
    return {
        "sexo": _named(encoded[:, _COLUMN["sexo"]], "sexo"),
        "age_band": age_band(encoded[:, _COLUMN["age"]]),
        "segmento": _named(encoded[:, _COLUMN["segmento"]], "segmento"),
    }


def _order(group: str) -> tuple[int, str]:
    """Groups in their natural order: age bands by age, the others by name, unknown last."""
    bands = [label for _, label in (*AGE_BANDS, AGE_BANDS_LAST)]
    if group == UNKNOWN:
        return (len(bands) + 1, group)
    return (bands.index(group), group) if group in bands else (len(bands), group)


def _number(value: Any) -> float | None:
    """A figure for JSON: None where it is undefined (a ratio over 0)."""
    number = float(value)
    return None if math.isnan(number) or math.isinf(number) else number


def _attribute(
    labels: list[str],
    truth: npt.NDArray[np.float64],
    top: npt.NDArray[np.bool_],
    shown: list[int],
    min_group: int,
) -> dict[str, Any]:
    """The figures of one attribute's groups and their disparity ratios: `truth` holds each
    customer's AP@7 and 1 if they added a product (the best AP@7 they allow), `top` the (n, 24)
    products recommended, of which those at `shown` are measured."""
    sizes = pd.Series(labels, dtype=object).value_counts()
    found: dict[str, Any] = {
        "groups": {},
        "left_out": {str(g): int(n) for g, n in sizes.items() if n < min_group},
        "ratio": {"map_at_7": None, "perfect": None, "recommended": {}},
    }
    kept = np.isin(labels, sizes.index[sizes >= min_group])
    if not kept.any():
        return found
    products = [PRODUCT_CODES[j] for j in shown]
    table = pd.DataFrame(
        np.column_stack([truth[kept], top[kept][:, shown]]),
        columns=["map_at_7", "perfect", *products],
    )
    by_group = table.groupby(np.asarray(labels, dtype=object)[kept]).mean()
    ratio = by_group.min() / by_group.max()  # MetricFrame.ratio(): between groups
    for group in sorted(by_group.index, key=_order):
        found["groups"][str(group)] = {
            "customers": int(sizes[group]),
            "map_at_7": float(by_group.loc[group, "map_at_7"]),
            "perfect": float(by_group.loc[group, "perfect"]),
            "recommended": {code: float(by_group.loc[group, code]) for code in products},
        }
    found["ratio"] = {
        "map_at_7": _number(ratio["map_at_7"]),
        "perfect": _number(ratio["perfect"]),
        "recommended": {code: _number(ratio[code]) for code in products},
    }
    return found


def fairness_report(
    added: npt.NDArray[np.bool_],
    scores: features.FloatMatrix,
    encoded: features.FloatMatrix,
    min_group: int = MIN_GROUP,
) -> dict[str, Any]:
    """By sex, age band and segment: each group's customers, MAP@7, perfect MAP@7 (the share
    who added a product, which bounds it) and recommendation rate of each product recommended
    to anyone, and the ratio of the lowest group's figure to the highest's. `scores` rank as
    served (held and withheld products below 0); `encoded` holds the customers' features,
    excluded ones included. Groups of fewer than `min_group` customers are left out."""
    truth = np.column_stack([average_precisions(added, scores), added.any(axis=1)]).astype(
        np.float64
    )
    top = recommended(scores)
    shown = [int(j) for j in np.flatnonzero(top.any(axis=0))]
    return {
        "min_group": min_group,
        "attributes": {
            name: _attribute(labels, truth, top, shown, min_group)
            for name, labels in groups(encoded).items()
        },
    }


def lowest_ratio(attribute: dict[str, Any]) -> tuple[str, float] | None:
    """The product whose recommendation rate differs most between the groups of `attribute`
    (a section of fairness_report), with its ratio; None when no ratio is defined."""
    ratios = [(code, r) for code, r in attribute["ratio"]["recommended"].items() if r is not None]
    return min(ratios, key=lambda item: item[1]) if ratios else None


#: Each attribute as the report and the model card name it.
TITLES: Final = {"sexo": "sex", "age_band": "age band", "segmento": "segment"}


def markdown(report: dict[str, Any]) -> list[str]:
    """fairness_report's answer as Markdown: a table per attribute, a column per group and
    one for the disparity ratio; rows for the customers, MAP@7 and each product's
    recommendation rate."""
    lines: list[str] = []
    for name, attribute in report["attributes"].items():
        lines += [*_table(TITLES.get(name, name), attribute, report["min_group"]), ""]
    return lines


def _table(title: str, attribute: dict[str, Any], min_group: int) -> list[str]:
    groups = attribute["groups"]
    small = ", ".join(f"{g} ({n:,})" for g, n in attribute["left_out"].items())
    note = [f"Left out, under {min_group} customers: {small}."] if small else []
    if not groups:
        return [f"By {title}: no group of {min_group} customers or more.", *note]
    ratio, rows = attribute["ratio"], list(groups.values())
    customers = " | ".join(f"{row['customers']:,}" for row in rows)
    scores = " | ".join(f"{row['map_at_7']:.4f}" for row in rows)
    adders = " | ".join(f"{row['perfect']:.4f}" for row in rows)
    lines = [
        f"| by {title} | {' | '.join(groups)} | ratio |",
        "|---|" + "---:|" * (len(groups) + 1),
        f"| customers | {customers} | |",
        f"| MAP@7 | {scores} | {shown_ratio(ratio['map_at_7'])} |",
        f"| perfect (share who added) | {adders} | {shown_ratio(ratio['perfect'])} |",
    ]
    for code, value in ratio["recommended"].items():
        rates = " | ".join(f"{row['recommended'][code]:.1%}" for row in rows)
        lines.append(f"| {PRODUCTS[code]} | {rates} | {shown_ratio(value)} |")
    return [*lines, *(["", *note] if note else [])]


def shown_ratio(value: float | None) -> str:
    """A disparity ratio as the tables show it ("-": undefined, a figure of 0)."""
    return "-" if value is None else f"{value:.2f}"
