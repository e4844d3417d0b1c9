"""Fit the model that ranks next month's additions, and write it with its manifest."""

from __future__ import annotations

import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from threadpoolctl import threadpool_limits
from tqdm import tqdm

from bankreco import features
from bankreco.catalog import PRODUCT_CODES
from bankreco.data.reader import list_months, read_snapshots
from bankreco.domain.forest import compile_forest
from bankreco.domain.manifest import (
    COMPACT_FILE,
    MANIFEST_FILE,
    MODEL_FILE,
    Manifest,
)
from bankreco.domain.model import product_columns
from bankreco.metrics import map_at_k, perfect_map
from bankreco.training.dataset import MonthPair, addition_examples, month_pair, previous_month

BASELINE_FILE = "demographics_only.pkl"
MASK_FRACTION = 0.2


@dataclass(frozen=True)
class TrainConfig:
    """What to learn from and how."""

    months: tuple[str, ...] | None = None  # None: June 2015 and the 4 months before the last
    all_months: bool = False
    max_iter: int = 40  # with early stopping; fewer trees answer faster
    learning_rate: float = 0.25
    max_leaf_nodes: int = 15
    max_depth: int = 4  # shallow trees have a compact form (bankreco.domain.forest)
    min_class_share: float = 0.002  # products rarer among additions are not learned
    threads: int = 1  # OpenMP threads of the fit; more only helps on an otherwise idle machine
    seed: int = 0


def default_months(available: list[str], all_months: bool) -> list[str]:
    """The reference's recipe: June 2015 (tax month) plus recent months, never the last
    month unless `all_months`, and only months whose previous month is in the file."""
    usable = [m for m in available if previous_month(m) in available]
    if not usable:
        raise ValueError("the file needs at least two consecutive months")
    if all_months:
        return usable
    holdout = usable[-1]
    recent = [m for m in usable if m != holdout][-4:]
    june = [m for m in usable if m.endswith("-06-28") and m != holdout and m not in recent]
    chosen = june[:1] + recent
    if not chosen:
        raise ValueError("no months left to train on besides the last one (use --all-months)")
    return chosen


def fit(X: np.ndarray, y: np.ndarray, config: TrainConfig) -> HistGradientBoostingClassifier:
    """One gradient-boosted multi-class model (OpenMP threads limited to `config.threads`)."""
    model = HistGradientBoostingClassifier(
        max_iter=config.max_iter,
        learning_rate=config.learning_rate,
        max_leaf_nodes=config.max_leaf_nodes,
        max_depth=config.max_depth,
        l2_regularization=1.0,
        early_stopping=len(y) > 10_000,
        validation_fraction=0.1,
        n_iter_no_change=10,
        random_state=config.seed,
    )
    with threadpool_limits(limits=config.threads, user_api="openmp"):
        return model.fit(X, y)


def holdout_scores(model: Any, pair: MonthPair, with_products: bool = True) -> np.ndarray:
    """(n, 24) scores on `pair`. With products, the model sees last month's holdings and
    products already held go to the bottom; without, it knows nothing of them (the reference's
    "demographics only, no product history")."""
    scores = np.zeros((len(pair.ncodpers), len(PRODUCT_CODES)))
    scores[:, product_columns(model.classes_)] = model.predict_proba(pair.encode(with_products))
    if with_products:
        features.mask_owned(scores, pair.owned_before)
    return scores


@dataclass(frozen=True)
class _Plan:
    """Which months of a file a training run reads, learns from and evaluates on."""

    available: list[str]
    months: list[str]
    holdout: str | None  # None: no evaluation month (all months trained, or none before it)

    @property
    def needed(self) -> list[str]:
        """Every month to read: the training months, the holdout, and the month before each."""
        wanted = {*self.months, *([self.holdout] if self.holdout else [])}
        return sorted(wanted | {previous_month(m) for m in wanted})


def _plan(data: str | Path, config: TrainConfig) -> _Plan:
    available = list_months(data)
    months = list(config.months) if config.months else default_months(available, config.all_months)
    holdout = None if config.all_months else available[-1]
    missing = [m for m in months if m not in available or previous_month(m) not in available]
    if missing:
        raise ValueError(f"months not in the file with their previous month: {missing}")
    if holdout in months:
        raise ValueError(f"{holdout} is the evaluation month; train on it only with --all-months")
    if holdout and previous_month(holdout) not in available:
        holdout = None
    return _Plan(available, months, holdout)


def train(
    data: str | Path, out: str | Path, config: TrainConfig, progress: bool = True
) -> Manifest:
    """Train on `data` (train_ver2.csv format) and write model.pkl + manifest.json into `out`."""
    plan = _plan(data, config)
    read = read_snapshots(data, plan.needed, progress=progress)
    steps = tqdm(total=4, desc="train", disable=not progress)
    pairs = (month_pair(read.frame, m) for m in plan.months)
    examples, baseline_examples = addition_examples(
        pairs, mask_fraction=MASK_FRACTION, seed=config.seed
    )
    examples = examples.common(config.min_class_share)
    baseline_examples = baseline_examples.common(config.min_class_share)
    steps.update()
    model = fit(examples.X, examples.y, config)
    steps.update()
    baseline = fit(baseline_examples.X, baseline_examples.y, config)
    steps.update()
    metrics = _holdout_metrics(model, read.frame, plan.holdout)
    steps.update()
    steps.close()
    files = {
        MODEL_FILE: pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL),
        COMPACT_FILE: compile_forest(model).to_bytes(),
    }
    training = {
        **examples.summary,
        "data_file": Path(data).name,
        "rows_read": read.rows_read,
        "rows_dropped": read.dropped,
        "file_months": [plan.available[0], plan.available[-1]],
        "iterations": int(model.n_iter_),
        "params": {k: v for k, v in vars(config).items() if k != "months"},
        "mask_fraction": MASK_FRACTION,
    }
    manifest = Manifest.describe(model, files, training, metrics)
    files[BASELINE_FILE] = pickle.dumps(baseline, protocol=pickle.HIGHEST_PROTOCOL)
    files[MANIFEST_FILE] = manifest.model_dump_json(indent=2).encode()
    _write(Path(out), files)
    return manifest


def _holdout_metrics(
    model: HistGradientBoostingClassifier, frame: pd.DataFrame, holdout: str | None
) -> dict[str, Any]:
    """MAP@7 of `model` on the holdout month (none without one)."""
    if holdout is None:
        return {}
    test = month_pair(frame, holdout)
    return {
        "holdout_month": holdout,
        "map_at_7": map_at_k(test.added, holdout_scores(model, test)),
        "perfect": perfect_map(test.added),
    }


def _write(out_dir: Path, files: dict[str, bytes]) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        (out_dir / name).write_bytes(content)
