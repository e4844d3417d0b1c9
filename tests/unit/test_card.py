"""The model card: every section of "Model Cards for Model Reporting", filled from the
manifest and the fairness report of the holdout month."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest

from bankreco import features
from bankreco.catalog import PRODUCT_CODES
from bankreco.domain.manifest import Manifest
from bankreco.eligibility import default_rules
from bankreco.training.card import SECTIONS, model_card
from bankreco.training.fairness import fairness_report
from tests.conftest import make_model, random_profiles

TRAINING = {
    "months": ["2015-06-28", "2016-01-28", "2016-04-28"],
    "customer_months": 123_456,
    "additions": 4_321,
    "addition_counts": {"ind_recibo_ult1": 1_500, "ind_cco_fin_ult1": 900},
    "products_left_out": ["ind_viv_fin_ult1"],
    "data_file": "train_ver2.csv",
    "rows_read": 654_321,
    "rows_dropped": {"no age": 12},
    "columns_missing": ["renta"],
    "iterations": 27,
    "params": {"max_depth": 4, "learning_rate": 0.25},
    "mask_fraction": 0.2,
}
METRICS = {
    "holdout_month": "2016-05-28",
    "holdout_customers": 96_737,
    "map_at_7": 0.028104,
    "map_at_7_without_rules": 0.027931,
    "perfect": 0.034331,
}


@pytest.fixture(scope="module")
def manifest() -> Manifest:
    described, _ = make_model(0)
    return described.model_copy(
        update={
            "training": TRAINING,
            "metrics": METRICS,
            "excluded_features": ["sexo"],
            "rules": default_rules(),
        }
    )


@pytest.fixture(scope="module")
def fairness() -> dict[str, Any]:
    rng = np.random.default_rng(2)
    n = 2000
    encoded = features.encode(random_profiles(n, rng), None)
    added = rng.random((n, len(PRODUCT_CODES))) < 0.03
    return fairness_report(added, rng.random((n, len(PRODUCT_CODES))), encoded)


def headings(card: str) -> list[str]:
    return re.findall(r"^## (.+)$", card, re.MULTILINE)


def test_the_card_has_every_section_in_order(manifest: Manifest, fairness: dict[str, Any]) -> None:
    card = model_card(manifest, fairness)
    assert card.startswith(f"# Model card: {manifest.estimator}, ")
    assert headings(card) == list(SECTIONS)
    assert SECTIONS[0] == "Model details"
    assert SECTIONS[-1] == "Caveats and recommendations"
    for title in SECTIONS:  # no section is empty
        body = card.split(f"## {title}\n\n", 1)[1].split("\n## ", 1)[0]
        assert body.strip(), title
    assert "\n\n\n" not in card
    assert card.endswith("\n")


def test_the_card_holds_the_manifests_figures(manifest: Manifest, fairness: dict[str, Any]) -> None:
    card = model_card(manifest, fairness)
    for expected in (
        "`HistGradientBoostingClassifier`",
        manifest.created_at.isoformat(),
        f"scikit-learn {manifest.libraries['scikit-learn']}",
        f"numpy {manifest.libraries['numpy']}",
        manifest.model_sha256,
        "27 boosting rounds",
        "max_depth=4",
        "2015-06, 2016-01, 2016-04 (123,456 customer-months, 4,321 additions)",
        "Direct Debit (1,500)",
        "654,321 rows read, 12 dropped; columns missing: renta",
        "Products added too rarely to learn (never recommended): Home Account",
        "Excluded profile fields: `sexo`",
        "Eligibility rules `santander-default`",
        "Credit Card (`ind_tjcr_fin_ult1`) only if age >= 18: credit cards are offered to adults",
        "Junior Account (`ind_ctju_fin_ult1`) only if age < 18",
        "2016-05, never trained on: the 96,737 customers",
        "MAP@7: 0.02810 with the eligibility rules (as served), 0.02793 without; perfect: 0.03433",
    ):
        assert expected in card, expected


def test_the_card_holds_the_fairness_figures(manifest: Manifest, fairness: dict[str, Any]) -> None:
    card = model_card(manifest, fairness)
    analyses = card.split("## Quantitative analyses", 1)[1].split("## Ethical", 1)[0]
    sex = fairness["attributes"]["sexo"]
    ratio = sex["ratio"]["map_at_7"]
    assert f"- By sex: MAP@7 disparity ratio {ratio:.2f}; " in analyses
    assert "| by sex | H | V | ratio |" in analyses
    assert f"| customers | {sex['groups']['H']['customers']:,} | " in analyses
    assert "| by age band | <25 | 25-34 | 35-44 | 45-54 | 55-64 | 65+ | ratio |" in analyses
    assert "| by segment | 01 - TOP | 02 - PARTICULARES | 03 - UNIVERSITARIO | ratio |" in analyses


def test_a_card_without_a_holdout_month_says_so(manifest: Manifest) -> None:
    unmeasured = manifest.model_copy(update={"metrics": {}, "excluded_features": [], "rules": None})
    card = model_card(unmeasured, None)
    assert headings(card) == list(SECTIONS)
    assert "No month was held out" in card
    assert "Not measured at training: no month was held out." in card
    assert "Excluded profile fields: none." in card
    assert "Eligibility rules: none" in card
    assert "this version has no rules" in card
