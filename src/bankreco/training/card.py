"""The model card of a version (`model_card.md`), in the sections of "Model Cards for Model
Reporting" (Mitchell et al., 2019), filled from the manifest and the fairness report of the
holdout month. It ships, and is signed, with the version (Manifest.card)."""

from __future__ import annotations

from typing import Any, Final

from bankreco.catalog import PRODUCTS
from bankreco.domain.manifest import Manifest
from bankreco.eligibility import RuleSet
from bankreco.training.fairness import (
    AGE_BANDS,
    AGE_BANDS_LAST,
    MIN_GROUP,
    TITLES,
    lowest_ratio,
    markdown,
    shown_ratio,
)

SECTIONS: Final = (
    "Model details",
    "Intended use",
    "Factors",
    "Metrics",
    "Evaluation data",
    "Training data",
    "Quantitative analyses",
    "Ethical considerations",
    "Caveats and recommendations",
)


def model_card(manifest: Manifest, fairness: dict[str, Any] | None) -> str:
    """The card of the model `manifest` describes; `fairness` is fairness_report's answer on
    the holdout month (None: no month was held out)."""
    parts = (
        _details(manifest),
        _intended_use(),
        _factors(manifest),
        _metrics(),
        _evaluation_data(manifest, fairness),
        _training_data(manifest),
        _analyses(manifest, fairness),
        _ethics(manifest),
        _caveats(manifest),
    )
    lines = [f"# Model card: {manifest.estimator}, {manifest.created_at:%Y-%m-%d %H:%M} UTC", ""]
    for title, body in zip(SECTIONS, parts, strict=True):
        lines += [f"## {title}", "", *body, ""]
    text = "\n".join(line.rstrip() for line in lines)
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    return text.rstrip() + "\n"


def _details(manifest: Manifest) -> list[str]:
    training = manifest.training
    libraries = ", ".join(f"{name} {version}" for name, version in manifest.libraries.items())
    params = ", ".join(f"{k}={v}" for k, v in training.get("params", {}).items())
    return [
        f"- Estimator: scikit-learn `{manifest.estimator}` ranking {len(manifest.classes)} "
        f"products, {training.get('iterations', '?')} boosting rounds; served by its compact "
        "numpy form.",
        f"- Created: {manifest.created_at.isoformat()}.",
        f"- Libraries: {libraries}.",
        f"- Parameters: {params or 'not recorded'}.",
        f"- Features: version {manifest.features.get('version')}, spec sha256 "
        f"`{str(manifest.features.get('sha256', ''))[:12]}`: the nine profile fields and the "
        "24 products held last month.",
        f"- Excluded profile fields: {_excluded(manifest)}.",
        f"- Model file sha256: `{manifest.model_sha256}`.",
    ]


def _excluded(manifest: Manifest) -> str:
    if not manifest.excluded_features:
        return "none"
    names = ", ".join(f"`{name}`" for name in manifest.excluded_features)
    return f"{names} (never seen in training; serving accepts the field and ignores it)"


def _intended_use() -> list[str]:
    return [
        "- Primary use: rank the products an existing retail-bank customer is most likely to "
        "add next month, from the profile and the products held, to choose which offers to "
        "show (marketing, advisers' prompts).",
        "- Primary users: the bank's marketing, CRM and advisory systems through the API.",
        "- Out of scope: decisions on credit, pricing, limits or eligibility (the eligibility "
        "rules decide what may be offered, not the model); customers outside the population "
        "the training file describes; any use where not being shown a product harms the "
        "customer.",
    ]


def _factors(manifest: Manifest) -> list[str]:
    bands = ", ".join([label for _, label in AGE_BANDS] + [AGE_BANDS_LAST[1]])
    return [
        "- Groups evaluated: sex (`sexo`), age band "
        f"({bands}) and customer segment (`segmento`); an unknown value is its own group.",
        f"- Groups of fewer than {MIN_GROUP} customers are listed but left out of the ratios.",
        f"- Excluded from the model's inputs: {_excluded(manifest)}. Groups are still measured "
        "by the excluded fields, so the card shows what the exclusion changes.",
        *_rules(manifest.rules),
    ]


def _rules(rules: RuleSet | None) -> list[str]:
    if rules is None or not rules.rules:
        return ["- Eligibility rules: none; every product may be offered to every customer."]
    lines = [f"- Eligibility rules `{rules.name or 'unnamed'}`, applied before ranking:"]
    for rule in rules.rules:
        values = ", ".join(f"{v:g}" if isinstance(v, float) else str(v) for v in rule.values)
        lines.append(
            f"  - {PRODUCTS[rule.product]} (`{rule.product}`) only if {rule.field} "
            f"{rule.operator} {values}" + (f": {rule.why}" if rule.why else "")
        )
    return lines


def _metrics() -> list[str]:
    return [
        "- MAP@7 as the Kaggle competition computed it: the mean over customers of the average "
        "precision of the top 7 products against the products added; a customer who adds "
        "nothing counts as 0, so `perfect` (the share of customers who added something) bounds "
        "it.",
        "- Per group: MAP@7, and the rate at which each product is in the group's top 7 "
        "(shown: scored above 0, not held, not withheld by a rule).",
        "- Disparity ratio (fairlearn's `MetricFrame.ratio()`): the lowest group's figure over "
        "the highest's; 1 is parity, and the four-fifths rule of thumb flags ratios under 0.8.",
    ]


def _evaluation_data(manifest: Manifest, fairness: dict[str, Any] | None) -> list[str]:
    month = manifest.metrics.get("holdout_month")
    if month is None or fairness is None:
        return [
            "- No month was held out (every month was trained on): "
            "`bankreco evaluate` on a later month measures this model."
        ]
    customers = manifest.metrics.get("holdout_customers", "?")
    return [
        f"- The file's last month, {month[:7]}, never trained on: the {customers:,} customers "
        "present in it and in the month before, ranked as served (held products and products "
        "the rules withhold last)."
        if isinstance(customers, int)
        else f"- The file's last month, {month[:7]}, never trained on.",
    ]


def _training_data(manifest: Manifest) -> list[str]:
    training = manifest.training
    months = ", ".join(str(m)[:7] for m in training.get("months", []))
    counts = training.get("addition_counts", {})
    top = sorted(counts.items(), key=lambda item: -item[1])[:5]
    common = ", ".join(f"{PRODUCTS.get(code, code)} ({n:,})" for code, n in top)
    left_out = [PRODUCTS.get(code, code) for code in training.get("products_left_out", [])]
    return [
        f"- File `{training.get('data_file', '?')}`: {training.get('rows_read', 0):,} rows read, "
        f"{sum(training.get('rows_dropped', {}).values()):,} dropped; columns missing: "
        f"{', '.join(training.get('columns_missing', [])) or 'none'}.",
        f"- Months learned: {months} ({training.get('customer_months', 0):,} customer-months, "
        f"{training.get('additions', 0):,} additions). Most added: {common}.",
        f"- Products added too rarely to learn (never recommended): "
        f"{', '.join(left_out) or 'none'}.",
        f"- {training.get('mask_fraction', 0):.0%} of the training rows have their holdings "
        "hidden, so the model also answers clients that do not send them.",
    ]


def _analyses(manifest: Manifest, fairness: dict[str, Any] | None) -> list[str]:
    metrics = manifest.metrics
    if fairness is None or "map_at_7" not in metrics:
        return ["- Not measured at training: no month was held out."]
    lines = [
        f"- MAP@7: {metrics['map_at_7']:.5f} with the eligibility rules (as served), "
        f"{metrics.get('map_at_7_without_rules', metrics['map_at_7']):.5f} without; "
        f"perfect: {metrics.get('perfect', 0):.5f}.",
    ]
    for name, attribute in fairness["attributes"].items():
        lines.append(_most_unequal(TITLES.get(name, name), attribute))
    return [*lines, "", *markdown(fairness)]


def _most_unequal(title: str, attribute: dict[str, Any]) -> str:
    """One line: the MAP@7 ratio of an attribute and its most unequally recommended product."""
    line = f"- By {title}: MAP@7 disparity ratio {shown_ratio(attribute['ratio']['map_at_7'])}"
    unequal = lowest_ratio(attribute)
    if unequal is None:
        return line + "."
    code, value = unequal
    rates = [row["recommended"][code] for row in attribute["groups"].values()]
    return (
        f"{line}; the product recommended most unequally is {PRODUCTS.get(code, code)} "
        f"(ratio {value:.2f}: {min(rates):.1%} to {max(rates):.1%} of a group)."
    )


def _ethics(manifest: Manifest) -> list[str]:
    return [
        "- Sex and age are protected characteristics. Recommending different products to "
        "different groups can be legitimate (a pension plan near retirement) or not; the "
        "ratios above show where the model does so, for a person to judge.",
        f"- Excluded fields: {_excluded(manifest)}. Excluding a field does not remove what "
        "other fields reveal of it (income, segment, relation type, province and the products "
        "held can stand in for it), so the ratios are measured by every attribute either way.",
        "- The training data are customers' banking records: train and evaluate where the "
        "bank's data may be processed, and publish only the model, its manifest and this card.",
    ]


def _caveats(manifest: Manifest) -> list[str]:
    return [
        "- The figures describe one month of one file; rerun `bankreco evaluate` on each new "
        "month, and compare a candidate with the serving model (`--compare`) before publishing.",
        "- Ratios of small groups move a lot from month to month; read them with the group sizes.",
        "- The model learns which product a customer adds among those who add one: its scores "
        "rank products, they are not the probability that a customer adds anything.",
        "- A product the rules withhold is never returned, even when fewer than 7 remain; "
        f"this version {'has' if manifest.rules and manifest.rules.rules else 'has no'} rules.",
    ]
