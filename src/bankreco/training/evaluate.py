"""MAP@7 of a trained model on a file's last month, beside honest baselines, with a report."""

from __future__ import annotations

import pickle
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import ValidationError

from bankreco import features
from bankreco.catalog import PRODUCT_CODES, PRODUCTS
from bankreco.data.reader import read_snapshots
from bankreco.domain.manifest import MANIFEST_FILE, MODEL_FILE, Manifest
from bankreco.eligibility import removed_counts
from bankreco.metrics import map_at_k, perfect_map
from bankreco.training.dataset import MonthPair, month_pair, previous_month
from bankreco.training.fairness import fairness_report, recommended
from bankreco.training.train import BASELINE_FILE, file_months, holdout_scores, served_scores

REPORT_DIR = "report"


@dataclass
class Evaluation:
    """The scores of one evaluation month, with what the report draws."""

    month: str
    customers: int  # present in the month and the month before it
    map_at_7: dict[str, float]
    per_product: list[dict[str, Any]] = field(default_factory=list)
    calibration: list[dict[str, float]] = field(default_factory=list)
    adders: int = 0  # customers who added at least one product
    model: str = "model"  # the model directory's name
    excluded_features: list[str] = field(default_factory=list)
    #: The model's eligibility rules: name, count, MAP@7 with and without them, and how many
    #: customers each withheld product is withheld from. map_at_7["model"] is with them.
    rules: dict[str, Any] = field(default_factory=dict)
    fairness: dict[str, Any] = field(default_factory=dict)  # fairness.fairness_report
    #: The same figures of a second model on the same customers (evaluate --compare).
    compared: dict[str, Any] | None = None

    def as_json(self) -> dict[str, Any]:
        found = {
            "month": self.month,
            "customers": self.customers,
            "map_at_7": self.map_at_7,
            "excluded_features": self.excluded_features,
            "rules": self.rules,
            "fairness": self.fairness,
        }
        return found | ({"compared": self.compared} if self.compared is not None else {})


def check_model_dir(model_dir: Path) -> None:
    """FileNotFoundError or ValueError naming `model_dir` unless it holds a manifest and a
    model, as `bankreco train` writes them."""
    if not model_dir.exists():
        raise FileNotFoundError(f"{model_dir}: no such model directory")
    if not model_dir.is_dir():
        raise ValueError(f"{model_dir} is a file, not a model directory written by bankreco train")
    for name in (MANIFEST_FILE, MODEL_FILE):
        if not (model_dir / name).is_file():
            raise ValueError(
                f"{model_dir} has no {name}: it is not a model directory written by bankreco train"
            )


def read_manifest(model_dir: Path) -> Manifest:
    """The manifest in `model_dir`; ValueError naming it when it is not one."""
    check_model_dir(model_dir)
    path = model_dir / MANIFEST_FILE
    try:
        return Manifest.model_validate_json(path.read_bytes())
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "the document"
        raise ValueError(f"{path} is not a model manifest: {where}: {first['msg']}") from exc


def load_verified(model_dir: Path) -> tuple[Manifest, Any]:
    """The model in `model_dir`, checked against its manifest before unpickling."""
    manifest = read_manifest(model_dir)
    blob = (model_dir / MODEL_FILE).read_bytes()
    manifest.verify(blob)
    return manifest, pickle.loads(blob)


def oracle_scores(oracle_path: Path, pair: MonthPair) -> np.ndarray | None:
    """The generator's true add-probabilities for the customers of `pair`, if present."""
    if not oracle_path.exists():
        return None
    truth = pd.read_csv(oracle_path).set_index("ncodpers").reindex(pair.ncodpers)
    if truth.isna().all(axis=None):
        return None
    scores = truth[list(PRODUCT_CODES)].to_numpy(dtype=np.float64, na_value=0.0)
    features.mask_owned(scores, pair.owned_before)
    return scores


def popularity_scores(manifest: Manifest, pair: MonthPair) -> np.ndarray:
    """One fixed list for everyone, as the reference's baseline: products by how often they
    were added in training (it knows nothing of the customer, holdings included)."""
    counts = manifest.training.get("addition_counts", {})
    row = np.array([float(counts.get(code, 0)) for code in PRODUCT_CODES])
    return np.tile(row / max(row.sum(), 1.0), (len(pair.ncodpers), 1))


@dataclass(frozen=True)
class Month:
    """The evaluation month: its customers, what they added, and their profiles encoded (the
    eligibility rules and the fairness groups read them)."""

    pair: MonthPair
    added: np.ndarray
    profile: features.FloatMatrix


@dataclass(frozen=True)
class Ranking:
    """A model's ranking of the month: as served (held products and products the rules
    withhold last) and without the rules."""

    manifest: Manifest
    served: np.ndarray
    without_rules: np.ndarray

    def summary(self, month: Month) -> dict[str, Any]:
        """The rules' section of the evaluation: MAP@7 with and without them."""
        rules = self.manifest.rules
        return {
            "name": rules.name if rules else None,
            "count": len(rules.rules) if rules else 0,
            "map_at_7": {
                "with_rules": map_at_k(month.added, self.served),
                "without_rules": map_at_k(month.added, self.without_rules),
            },
            "withheld": removed_counts(rules, month.profile) if rules else {},
        }


def rank(directory: Path, month: Month) -> Ranking:
    """The ranking of `month` by the model in `directory`, its excluded fields unknown."""
    manifest, model = load_verified(directory)
    scores = holdout_scores(model, month.pair, excluded=manifest.excluded_features)
    return Ranking(manifest, served_scores(scores, manifest.rules, month.profile), scores)


def evaluate(
    data: str | Path,
    model_dir: str | Path,
    progress: bool = False,
    compare: str | Path | None = None,
) -> Evaluation:
    """Score the model and the baselines on the last month of `data`, with the fairness
    report of the model's ranking, and the same figures of the model in `compare` if given.

    The model ranks as served, with its eligibility rules. Baselines as in the reference: the
    most-popular list and the demographics-only model know nothing of the customer's
    products; the model and the oracle exclude products held.
    """
    directory = Path(model_dir)
    # The model directories and the file are checked before the model loads, and
    # scikit-learn with it, which takes seconds.
    for checked in (directory, *([Path(compare)] if compare else [])):
        read_manifest(checked)
    last = file_months(data, progress)[-1]
    read = read_snapshots(data, [previous_month(last), last], progress=progress)
    pair = month_pair(read.frame, last)
    month = Month(pair, pair.added, pair.encode(with_products=False))
    ranking = rank(directory, month)
    ranked = _baselines(directory, ranking.manifest, month.pair, Path(data))
    results = {name: map_at_k(month.added, scores) for name, scores in ranked.items()}
    return Evaluation(
        month=last,
        customers=len(pair.ncodpers),
        map_at_7={
            "model": map_at_k(month.added, ranking.served),
            **results,
            "perfect": perfect_map(month.added),
        },
        per_product=_per_product(month.added, ranking.served),
        calibration=_calibration(month.added, ranking.without_rules),
        adders=int(month.added.any(axis=1).sum()),
        model=directory.name,
        excluded_features=ranking.manifest.excluded_features,
        rules=ranking.summary(month),
        fairness=fairness_report(month.added, ranking.served, month.profile),
        compared=_compared(Path(compare), month) if compare else None,
    )


def _baselines(
    directory: Path, manifest: Manifest, pair: MonthPair, data: Path
) -> dict[str, np.ndarray]:
    """The scores of the most-popular list, the demographics-only model (if trained, without
    the model's excluded fields) and the oracle (for a generated file)."""
    ranked = {"popularity": popularity_scores(manifest, pair)}
    baseline_path = directory / BASELINE_FILE
    if baseline_path.exists():
        baseline = pickle.loads(baseline_path.read_bytes())
        ranked["demographics_only"] = holdout_scores(
            baseline, pair, with_products=False, excluded=manifest.excluded_features
        )
    oracle = oracle_scores(data.with_suffix(".oracle.csv"), pair)
    if oracle is not None:
        ranked["oracle"] = oracle
    return ranked


def _compared(directory: Path, month: Month) -> dict[str, Any]:
    """The figures of the model in `directory` on the same customers."""
    ranking = rank(directory, month)
    return {
        "model": directory.name,
        "path": str(directory),
        "excluded_features": ranking.manifest.excluded_features,
        "map_at_7": map_at_k(month.added, ranking.served),
        "rules": ranking.summary(month),
        "fairness": fairness_report(month.added, ranking.served, month.profile),
    }


def _per_product(added: np.ndarray, scores: np.ndarray) -> list[dict[str, Any]]:
    top = recommended(scores)
    rows = []
    for j, code in enumerate(PRODUCT_CODES):
        shown, actual = int(top[:, j].sum()), int(added[:, j].sum())
        hits = int((top[:, j] & added[:, j]).sum())
        rows.append(
            {
                "product": code,
                "name": PRODUCTS[code],
                "added": actual,
                "recommended": shown,
                "hits": hits,
                "precision_at_7": hits / shown if shown else 0.0,
                "recall_at_7": hits / actual if actual else 0.0,
            }
        )
    return rows


def _calibration(
    added: np.ndarray, scores: np.ndarray, per_decade: int = 2, min_pairs: int = 20
) -> list[dict[str, float]]:
    """Mean score against the observed add rate, in bins of equal width on a log scale
    (`per_decade` a power of ten, from 1e-4; lower scores join the first bin).

    The model learns which product a customer adds among the customers who add one, so the
    pairs are those (customer, product) of the customers who added something; products held
    (scored below 0) and products never learned (scored 0) are left out, and bins with fewer
    than `min_pairs` pairs are dropped.
    """
    adders = added.any(axis=1)
    flat_scores = scores[adders].ravel()
    flat_added = added[adders].ravel()
    keep = flat_scores > 0
    flat_scores, flat_added = flat_scores[keep], flat_added[keep]
    edges = 10.0 ** np.linspace(-4, 0, 4 * per_decade + 1)
    which = np.clip(np.searchsorted(edges, flat_scores, side="right") - 1, 0, len(edges) - 2)
    rows = []
    for b in range(len(edges) - 1):
        inside = which == b
        if inside.sum() < min_pairs:
            continue
        rows.append(
            {
                "low": float(edges[b]),
                "high": float(edges[b + 1]),
                "mean_score": float(flat_scores[inside].mean()),
                "observed_rate": float(flat_added[inside].mean()),
                "count": float(inside.sum()),
                "positives": float(flat_added[inside].sum()),
            }
        )
    return rows
