"""The evaluation report: Markdown and PNG plots written beside the model.

Each plot's title states what it shows, its axes say what they measure and in which unit, its
legend sits outside the data, and a caption under it says how to read it.
"""

from __future__ import annotations

import math
from itertools import pairwise
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, PercentFormatter

from bankreco.catalog import PRODUCTS
from bankreco.training.dataset import previous_month
from bankreco.training.evaluate import REPORT_DIR, Evaluation
from bankreco.training.fairness import TITLES, lowest_ratio, markdown, shown_ratio

NAMES = {
    "model": "model",
    "demographics_only": "demographics only",
    "popularity": "most popular",
    "oracle": "oracle (true probabilities)",
    "perfect": "perfect",
}
MODEL_COLOUR = "#1f5fa8"
BASELINE_COLOUR = "#9aa3ad"
REFERENCE_COLOUR = "#d5dae0"
CHANCE_COLOUR = "#d4542b"
CHANCE = "chance: customers who added it"
DPI = 100


def write_report(evaluation: Evaluation, model_dir: str | Path) -> Path:
    """Write report.md and its plots into `<model_dir>/report/`; return the Markdown path."""
    out = Path(model_dir) / REPORT_DIR
    try:
        out.mkdir(parents=True, exist_ok=True)
        _map_plot(evaluation, out / "map_at_7.png")
        _product_plot(evaluation, out / "per_product.png")
        _calibration_plot(evaluation, out / "calibration.png")
        path = out / "report.md"
        path.write_text("\n".join(_markdown(evaluation)))
    except OSError as exc:
        raise ValueError(f"cannot write the report to {out}: {exc.strerror or exc}") from exc
    return path


def _markdown(evaluation: Evaluation) -> list[str]:
    scores = evaluation.map_at_7
    return [
        f"# Evaluation on {evaluation.month[:7]} ({evaluation.customers:,} customers)",
        "",
        "| ranking | MAP@7 | vs most popular |",
        "|---|---:|---:|",
        *(
            f"| {NAMES.get(k, k)} | {v:.5f} | {v / scores['popularity']:.2f}x |"
            for k, v in scores.items()
            if scores.get("popularity")
        ),
        "",
        "![MAP@7 of the model and the baselines](map_at_7.png)",
        "",
        "| product | added | recommended | precision@7 | recall@7 |",
        "|---|---:|---:|---:|---:|",
        *(
            f"| {r['name']} (`{r['product']}`) | {r['added']} | {r['recommended']} "
            f"| {r['precision_at_7']:.3f} | {r['recall_at_7']:.3f} |"
            for r in evaluation.per_product
            if r["added"] or r["recommended"]
        ),
        "",
        "![recall and precision at 7 per product](per_product.png)",
        "",
        "![calibration of the model's scores](calibration.png)",
        "",
        *_rules_markdown(evaluation.rules),
        *_fairness_markdown(evaluation),
        *_comparison_markdown(evaluation),
    ]


def summary_lines(evaluation: Evaluation) -> list[str]:
    """What `bankreco evaluate` prints after the MAP@7 table: the rules' effect, the
    disparity ratios, and the compared model's figures."""
    rules = evaluation.rules
    if not rules or not evaluation.fairness:
        return []
    lines = [
        f"rules {rules['name'] or 'none'} ({rules['count']}): MAP@7 "
        f"{rules['map_at_7']['with_rules']:.5f} with them, "
        f"{rules['map_at_7']['without_rules']:.5f} without",
        f"MAP@7 disparity ratios (lowest group / highest): {_ratios(evaluation.fairness)}",
    ]
    other = evaluation.compared
    if other is not None:
        model = evaluation.map_at_7["model"]
        change = (other["map_at_7"] - model) / model if model else 0.0
        lines += [
            f"compared with {other['model']} (excluded: "
            f"{', '.join(other['excluded_features']) or 'none'}): MAP@7 {other['map_at_7']:.5f} "
            f"({change:+.1%}), disparity ratios: {_ratios(other['fairness'])}"
        ]
    return lines


def _ratios(fairness: dict[str, Any]) -> str:
    return ", ".join(
        f"{TITLES.get(name, name)} {shown_ratio(attribute['ratio']['map_at_7'])}"
        for name, attribute in fairness["attributes"].items()
    )


def _rules_markdown(rules: dict[str, Any]) -> list[str]:
    if not rules:  # not measured
        return []
    if not rules["count"]:
        return ["## Eligibility rules", "", "This version has no eligibility rules.", ""]
    withheld = ", ".join(f"{PRODUCTS[code]} {n:,}" for code, n in rules["withheld"].items())
    return [
        "## Eligibility rules",
        "",
        f"The model ranks as served, with its {rules['count']} rules `{rules['name']}`: MAP@7 "
        f"{rules['map_at_7']['with_rules']:.5f} with them, "
        f"{rules['map_at_7']['without_rules']:.5f} without. Customers each product is "
        f"withheld from: {withheld or 'none'}.",
        "",
    ]


def _fairness_markdown(evaluation: Evaluation) -> list[str]:
    if not evaluation.fairness:  # not measured
        return []
    excluded = ", ".join(f"`{name}`" for name in evaluation.excluded_features) or "none"
    return [
        "## Fairness",
        "",
        "The model's ranking as served, by sex, age band and segment (fields the model "
        f"excludes: {excluded}): each group's MAP@7 and the share of its customers shown each "
        "product in their top 7. Ratio: the lowest group's figure over the highest's (1 is "
        "parity; under 0.8 fails the four-fifths rule of thumb).",
        "",
        *markdown(evaluation.fairness),
    ]


def _labels(evaluation: Evaluation, other: dict[str, Any]) -> tuple[str, str]:
    """Column names of the two models: their directories' names, or paths when they agree."""
    if evaluation.model != other["model"]:
        return evaluation.model, other["model"]
    return "this model", other["path"]


def _comparison_markdown(evaluation: Evaluation) -> list[str]:
    other = evaluation.compared
    if other is None or not evaluation.fairness:
        return []
    mine, theirs = _labels(evaluation, other)
    lines = [
        f"## Compared with {theirs}",
        "",
        f"| on the same {evaluation.customers:,} customers | {mine} | {theirs} | difference |",
        "|---|---:|---:|---:|",
        f"| fields excluded | {', '.join(evaluation.excluded_features) or 'none'} "
        f"| {', '.join(other['excluded_features']) or 'none'} | |",
        _difference_row("MAP@7 (as served)", evaluation.map_at_7["model"], other["map_at_7"]),
        _difference_row(
            "MAP@7 without rules",
            evaluation.rules["map_at_7"]["without_rules"],
            other["rules"]["map_at_7"]["without_rules"],
        ),
    ]
    for name, attribute in evaluation.fairness["attributes"].items():
        theirs_attribute = other["fairness"]["attributes"][name]
        lines.append(
            _difference_row(
                f"MAP@7 ratio by {TITLES.get(name, name)}",
                attribute["ratio"]["map_at_7"],
                theirs_attribute["ratio"]["map_at_7"],
                places=3,
            )
        )
        lines.append(_lowest_row(TITLES.get(name, name), attribute, theirs_attribute))
    return [*lines, "", *_product_ratios(evaluation.fairness, other["fairness"], mine, theirs)]


def _difference_row(label: str, mine: float | None, theirs: float | None, places: int = 5) -> str:
    """A row of the comparison: both figures and their difference, absolute and relative."""
    if mine is None or theirs is None:
        return f"| {label} | {shown_ratio(mine)} | {shown_ratio(theirs)} | |"
    relative = f" ({(theirs - mine) / mine:+.1%})" if mine else ""
    difference = f"{theirs - mine:+.{places}f}{relative}"
    return f"| {label} | {mine:.{places}f} | {theirs:.{places}f} | {difference} |"


def _lowest_row(title: str, mine: dict[str, Any], theirs: dict[str, Any]) -> str:
    def shown(attribute: dict[str, Any]) -> str:
        found = lowest_ratio(attribute)
        return "-" if found is None else f"{found[1]:.2f} ({PRODUCTS[found[0]]})"

    return f"| lowest product-rate ratio by {title} | {shown(mine)} | {shown(theirs)} | |"


def _product_ratios(
    mine: dict[str, Any], theirs: dict[str, Any], mine_label: str, theirs_label: str
) -> list[str]:
    """Each product's recommendation-rate ratio per attribute, for both models."""
    names = list(mine["attributes"])
    codes = dict.fromkeys(
        code
        for fairness in (mine, theirs)
        for attribute in fairness["attributes"].values()
        for code in attribute["ratio"]["recommended"]
    )
    head = " | ".join(
        f"{TITLES.get(n, n)}: {label}" for n in names for label in (mine_label, theirs_label)
    )
    lines = [
        "Recommendation-rate ratio of each product (lowest group / highest):",
        "",
        f"| product | {head} |",
        "|---|" + "---:|" * (2 * len(names)),
    ]
    for code in codes:
        cells = [
            shown_ratio(fairness["attributes"][n]["ratio"]["recommended"].get(code))
            for n in names
            for fairness in (mine, theirs)
        ]
        lines.append(f"| {PRODUCTS[code]} | {' | '.join(cells)} |")
    return [*lines, ""]


def _caption(fig: Figure, text: str) -> None:
    """A caption under the axes, wrapped to the figure's width."""
    fig.text(0.01, 0.01, text, fontsize=8.5, va="bottom", wrap=True)


def _save(fig: Figure, path: Path, bottom: float) -> None:
    """Lay out above a caption taking `bottom` of the height; write a small PNG."""
    fig.tight_layout(rect=(0, bottom, 1, 1))
    fig.savefig(path, dpi=DPI, metadata={"Software": None})
    plt.close(fig)


def _map_title(scores: dict[str, float]) -> str:
    model = scores.get("model", 0.0)
    found = []
    if scores.get("popularity"):
        found.append(f"{model / scores['popularity']:.2f}x the most-popular list")
    if scores.get("oracle"):
        found.append(f"{model / scores['oracle']:.0%} of the oracle")
    return f"The model scores {' and '.join(found)}" if found else f"MAP@7 of the model: {model}"


def _map_plot(evaluation: Evaluation, path: Path) -> None:
    items = list(evaluation.map_at_7.items())
    popular = evaluation.map_at_7.get("popularity")
    colours = {"model": MODEL_COLOUR, "oracle": REFERENCE_COLOUR, "perfect": REFERENCE_COLOUR}
    fig, ax = plt.subplots(figsize=(8, 4.2))
    bars = ax.barh(
        [NAMES.get(k, k) for k, _ in items],
        [v for _, v in items],
        color=[colours.get(k, BASELINE_COLOUR) for k, _ in items],
    )
    for bar, (_, v) in zip(bars, items, strict=True):
        label = f" {v:.4f}" + (f"  ({v / popular:.2f}x)" if popular else "")
        ax.text(v, bar.get_y() + bar.get_height() / 2, label, va="center", fontsize=9)
    ax.set_xlim(0, max([v for _, v in items] + [1e-3]) * 1.35)  # room for the labels
    ax.invert_yaxis()
    ax.set_xlabel(f"MAP@7 on {evaluation.month[:7]} (0 to 1, higher is better)")
    ax.set_title(_map_title(evaluation.map_at_7), loc="left", fontsize=11)
    ax.spines[["top", "right"]].set_visible(False)
    share = evaluation.adders / evaluation.customers if evaluation.customers else 0.0
    _caption(
        fig,
        "Blue: the model; grey: baselines that know nothing of the customer's products; light: "
        "references (the oracle ranks by the generator's true probabilities, perfect puts each "
        f"customer's additions first). {evaluation.customers:,} customers present in "
        f"{previous_month(evaluation.month)[:7]} and {evaluation.month[:7]}, of whom "
        f"{evaluation.adders:,} ({share:.1%}) added a product. A customer who adds nothing counts "
        "as 0, so no ranking scores more than that share (perfect). In brackets: times the "
        "most-popular list.",
    )
    _save(fig, path, bottom=0.16)


def _product_rows(evaluation: Evaluation) -> list[dict[str, Any]]:
    """The products added in the month, most added first."""
    rows = [r for r in evaluation.per_product if r["added"]]
    return sorted(rows, key=lambda r: -r["added"])


def _product_title(rows: list[dict[str, Any]], customers: int) -> str:
    added = sum(r["added"] for r in rows)
    if not added:
        return "No customer added a product this month"
    hits = sum(r.get("hits", round(r["recall_at_7"] * r["added"])) for r in rows)
    shown = [r for r in rows if r["recommended"]]
    better = sum(r["precision_at_7"] > r["added"] / max(customers, 1) for r in shown)
    return (
        f"{hits / added:.0%} of the {added:,} additions were in the customer's top 7; "
        f"precision beats chance for {better} of the {len(shown)} products recommended"
    )


def _product_plot(evaluation: Evaluation, path: Path) -> None:
    rows = _product_rows(evaluation)
    fig, (left, right) = plt.subplots(
        1, 2, figsize=(9.5, 1.6 + 0.27 * len(rows)), sharey=True, width_ratios=(1, 1.2)
    )
    y = range(len(rows))
    names = [f"{r['name']} ({r['added']:,})" for r in rows]
    recall = [100 * r["recall_at_7"] for r in rows]
    left.barh(y, recall, color=MODEL_COLOUR)
    left.set_yticks(list(y), names, fontsize=8.5)
    left.invert_yaxis()
    left.set_xlim(0, 100)
    left.xaxis.set_major_formatter(PercentFormatter())
    left.set_xlabel("recall@7: adders who had it in their top 7")
    precision = [100 * r["precision_at_7"] for r in rows]
    chance = [100 * r["added"] / max(evaluation.customers, 1) for r in rows]
    right.barh(
        y, precision, color=MODEL_COLOUR, label="precision@7: customers shown it who added it"
    )
    right.scatter(chance, y, color=CHANCE_COLOUR, marker="|", s=120, zorder=3, label=CHANCE)
    right.xaxis.set_major_formatter(PercentFormatter(decimals=1))
    right.set_xlabel("precision@7 (its own scale)")
    for i, r in enumerate(rows):
        if not r["recommended"]:
            right.text(0, i, " never recommended (not learned)", va="center", fontsize=8)
    for ax in (left, right):
        ax.spines[["top", "right"]].set_visible(False)
        ax.grid(axis="x", color="#e6e6e6", zorder=0)
        ax.set_axisbelow(True)
    fig.suptitle(_product_title(rows, evaluation.customers), x=0.01, ha="left", fontsize=11)
    fig.legend(loc="lower right", bbox_to_anchor=(1, 0.055), ncols=2, fontsize=8.5, frameon=False)
    _caption(
        fig,
        f"Products added in {evaluation.month[:7]}, most added first (in brackets: customers "
        "who added it). Each customer is shown 7 products, so precision is low when few "
        "customers add anything: compare each bar with its chance mark.",
    )
    _save(fig, path, bottom=0.12)


def _wilson(positives: float, count: float) -> tuple[float, float]:
    """The 95% Wilson interval of a rate."""
    if count <= 0:
        return 0.0, 0.0
    rate, z = positives / count, 1.96
    centre = (rate + z * z / (2 * count)) / (1 + z * z / count)
    half = z * math.sqrt(rate * (1 - rate) / count + z * z / (4 * count * count))
    return centre - half / (1 + z * z / count), centre + half / (1 + z * z / count)


def _calibration_title(points: list[dict[str, float]]) -> str:
    if not points:
        return "No customer added a product the model scores: nothing to calibrate"
    rates = [p["observed_rate"] for p in points]
    rises = all(low <= high for low, high in pairwise(rates))
    top = points[-1]
    return (
        f"The observed add rate {'rises' if rises else 'does not always rise'} with the score, "
        f"to {top['observed_rate']:.0%} at scores over {top['low']:.0%}"
    )


def _calibration_plot(evaluation: Evaluation, path: Path) -> None:
    points = evaluation.calibration
    fig, ax = plt.subplots(figsize=(6.4, 6.8))
    floor = 1e-4
    ax.plot([floor, 1], [floor, 1], ls="--", color="grey")
    ax.text(0.05, 0.012, "score = observed rate", rotation=45, color="grey", ha="center")
    for p in points:
        low, high = _wilson(p["positives"], p["count"])
        rate = max(p["observed_rate"], floor)
        marker = "o" if p["positives"] else "v"  # v: none added, drawn at the floor
        span = [[rate - max(low, floor)], [high - rate]]
        ax.errorbar(p["mean_score"], rate, yerr=span, fmt=marker, color=MODEL_COLOUR, capsize=3)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(floor / 2, 1.5)
    ax.set_ylim(floor / 2, 1.5)
    ax.set_aspect("equal")
    percent = FuncFormatter(lambda value, _: f"{100 * value:g}%")
    ax.xaxis.set_major_formatter(percent)
    ax.yaxis.set_major_formatter(percent)
    ax.set_xlabel("model score: probability of the product, given the customer adds one")
    ax.set_ylabel("observed: share of the pairs where the customer added it")
    fig.suptitle(_calibration_title(points), x=0.01, ha="left", fontsize=11)
    ax.spines[["top", "right"]].set_visible(False)
    scored = sum(p["mean_score"] * p["count"] for p in points)
    added = sum(p["positives"] for p in points)
    _caption(
        fig,
        f"The {evaluation.adders:,} customers who added a product in {evaluation.month[:7]}: each "
        "(customer, product) pair not held is binned by its score, half a power of ten a bin; a "
        "point is a bin's mean score and observed rate, with its 95% interval (a triangle: none "
        "added, drawn at the axis' floor). Above the dashed "
        "line, products were added more often than scored: adders added "
        f"{added / max(scored, 1e-12):.2f} products for every one the scores predict, as some "
        "add more than one.",
    )
    _save(fig, path, bottom=0.14)
