"""Fit the model that ranks next month's additions, and write it with its manifest."""

from __future__ import annotations

import pickle
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits
from tqdm import tqdm

from bankreco import features
from bankreco.catalog import PRODUCT_CODES
from bankreco.data.reader import list_months, month_key, products_in, read_snapshots
from bankreco.domain.forest import compile_forest
from bankreco.domain.manifest import (
    CARD_FILE,
    COMPACT_FILE,
    MANIFEST_FILE,
    MODEL_FILE,
    Manifest,
)
from bankreco.domain.model import product_columns
from bankreco.eligibility import RuleSet, default_rules
from bankreco.metrics import map_at_k, perfect_map
from bankreco.training.card import model_card
from bankreco.training.dataset import (
    Examples,
    MonthPair,
    addition_examples,
    month_pair,
    previous_month,
)
from bankreco.training.fairness import fairness_report
from bankreco.training.paths import check_writable_dir

if TYPE_CHECKING:
    from sklearn.ensemble import HistGradientBoostingClassifier

BASELINE_FILE = "demographics_only.pkl"
#: Profile fields left out unless a run says otherwise: sex. A model without it ranks as well
#: and offers each product to men and women at near-equal rates, where a model with it offers
#: some products to one sex far more often (the measurements: docs/banking.md#fairness).
DEFAULT_EXCLUDED: Final = ("sexo",)
MASK_FRACTION = 0.2
MIN_LEAF = 20  # examples in a leaf at least (scikit-learn's default)


@dataclass(frozen=True)
class TrainConfig:
    """What to learn from and how."""

    # Months to learn the additions of, in any form `month_key` reads (2016-05, 2016-05-28).
    # None: June 2015 and the 4 months before the last.
    months: tuple[str, ...] | None = None
    all_months: bool = False
    max_iter: int = 40  # with early stopping; fewer trees answer faster
    learning_rate: float = 0.25
    max_leaf_nodes: int = 15
    max_depth: int = 4  # shallow trees have a compact form (bankreco.domain.forest)
    min_class_share: float = 0.002  # products rarer among additions are not learned
    threads: int = 1  # OpenMP threads of the fit; more only helps on an otherwise idle machine
    seed: int = 0
    # Profile fields (features.RAW_FIELDS) the model never sees: read as unknown in training
    # and in serving, so no tree splits on them.
    excluded_features: tuple[str, ...] = DEFAULT_EXCLUDED
    # The bank's eligibility rules, embedded in the manifest (None: a version without rules).
    rules: RuleSet | None = field(default_factory=default_rules)

    def __post_init__(self) -> None:
        for name in self.excluded_features:
            if name not in features.RAW_FIELDS:
                raise ValueError(
                    f"cannot exclude {name!r}: not a profile field "
                    f"({', '.join(features.RAW_FIELDS)})"
                )

    @property
    def params(self) -> dict[str, Any]:
        """The fit's parameters as the manifest records them (months, exclusions and rules
        have their own entries)."""
        own = ("months", "excluded_features", "rules")
        return {k: v for k, v in vars(self).items() if k not in own}


def default_months(available: list[str], all_months: bool) -> list[str]:
    """The reference's recipe: June 2015 (tax month) plus recent months, never the last
    month unless `all_months`, and only months whose previous month is in the file."""
    usable = [m for m in available if previous_month(m) in available]
    if not usable:
        raise ValueError("the file needs at least two consecutive months to learn additions")
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
    # Imported here: scikit-learn takes seconds to import, and a command that fails on its
    # arguments or its file says so before that.
    from sklearn.ensemble import HistGradientBoostingClassifier

    model = HistGradientBoostingClassifier(
        max_iter=config.max_iter,
        learning_rate=config.learning_rate,
        max_leaf_nodes=config.max_leaf_nodes,
        max_depth=config.max_depth,
        min_samples_leaf=MIN_LEAF,
        l2_regularization=1.0,
        early_stopping=len(y) > 10_000,
        validation_fraction=0.1,
        n_iter_no_change=10,
        random_state=config.seed,
    )
    with threadpool_limits(limits=config.threads, user_api="openmp"):
        return model.fit(fill_sparse_columns(X), y)


def fill_sparse_columns(X: np.ndarray) -> np.ndarray:
    """`X` with 0 in every column that has fewer than MIN_LEAF values (a profile column the
    file lacks is all NaN). scikit-learn cannot bin a column without a value, and no split can
    separate fewer than MIN_LEAF values from the rest, so a constant column trains the same
    trees: the model never tests that feature, whatever a request sends."""
    sparse = np.count_nonzero(~np.isnan(X), axis=0) < MIN_LEAF
    return np.where(sparse, 0.0, X) if sparse.any() else X


def blank(X: np.ndarray, excluded: Sequence[str]) -> np.ndarray:
    """`X` with the feature columns of the profile fields `excluded` unknown (NaN), in place:
    what the model trains on and what serving gives it (bankreco.domain.model)."""
    X[:, features.field_columns(excluded)] = np.nan
    return X


def holdout_scores(
    model: Any, pair: MonthPair, with_products: bool = True, excluded: Sequence[str] = ()
) -> np.ndarray:
    """(n, 24) scores on `pair`, the fields `excluded` unknown. With products, the model sees
    last month's holdings and products already held go to the bottom; without, it knows
    nothing of them (the reference's "demographics only, no product history")."""
    scores = np.zeros((len(pair.ncodpers), len(PRODUCT_CODES)))
    X = blank(pair.encode(with_products), excluded)
    scores[:, product_columns(model.classes_)] = model.predict_proba(X)
    if with_products:
        features.mask_owned(scores, pair.owned_before)
    return scores


def served_scores(
    scores: np.ndarray, rules: RuleSet | None, encoded: features.FloatMatrix
) -> np.ndarray:
    """A copy of `scores` ranked as serving ranks them: the products `rules` withhold from
    each customer (a row of `encoded`, the profile as given) below every other."""
    served = scores.copy()
    if rules is not None:
        rules.restrict(served, encoded)
    return served


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


def file_months(data: str | Path, progress: bool = False) -> list[str]:
    """The snapshot dates of `data` (ISO, sorted); ValueError for a file without data rows or
    without product columns (a profile-only file such as test_ver2.csv)."""
    if not products_in(data):
        raise ValueError(
            f"{data} has no product columns ({PRODUCT_CODES[0]} .. {PRODUCT_CODES[-1]}): "
            "a file without holdings, such as test_ver2.csv, cannot train or evaluate a model"
        )
    available = list_months(data, progress=progress)
    if not available:
        raise ValueError(f"{data} has no data rows after its header")
    return available


def requested_months(data: str | Path, months: Sequence[str], available: list[str]) -> list[str]:
    """The file's snapshot date of each month in `months` (any form `month_key` reads);
    ValueError naming a month the file lacks, or whose previous month it lacks."""
    dates = {date[:7]: date for date in available}
    span = f"{available[0][:7]} .. {available[-1][:7]}"
    chosen = []
    for text in months:
        date = dates.get(month_key(text))
        if date is None:
            raise ValueError(f"month {text} is not in {data}, which has {span}")
        if previous_month(date) not in available:
            raise ValueError(
                f"month {text} cannot be learned: {data} lacks the month before it "
                f"({previous_month(date)[:7]}), so its additions are unknown"
            )
        chosen.append(date)
    return sorted(set(chosen))


def _plan(data: str | Path, config: TrainConfig, progress: bool) -> _Plan:
    available = file_months(data, progress)
    if config.months:
        months = requested_months(data, config.months, available)
    else:
        months = default_months(available, config.all_months)
    holdout = None if config.all_months else available[-1]
    if holdout in months:
        raise ValueError(
            f"{holdout[:7]} is the evaluation month (the file's last); "
            "train on it only with --all-months"
        )
    if holdout and previous_month(holdout) not in available:
        holdout = None
    return _Plan(available, months, holdout)


def train(
    data: str | Path, out: str | Path, config: TrainConfig, progress: bool = True
) -> Manifest:
    """Train on `data` (train_ver2.csv format) and write model.pkl, its compact form, the
    model card and manifest.json into `out`.

    A run that cannot write into `out` fails before reading the file."""
    check_writable_dir(Path(out), "the model")
    plan = _plan(data, config, progress)
    read = read_snapshots(data, plan.needed, progress=progress)
    steps = tqdm(total=4, desc="train", disable=not progress)
    examples, baseline_examples = _examples(read.frame, plan.months, config)
    steps.update()
    model = fit(examples.X, examples.y, config)
    steps.update()
    baseline = fit(baseline_examples.X, baseline_examples.y, config)
    steps.update()
    metrics, fairness = _holdout_metrics(model, read.frame, plan.holdout, config)
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
        "columns_missing": list(read.missing),
        "file_months": [plan.available[0], plan.available[-1]],
        "iterations": int(model.n_iter_),
        "params": config.params,
        "mask_fraction": MASK_FRACTION,
    }
    manifest = Manifest.describe(
        model, files, training, metrics, config.rules, list(config.excluded_features)
    )
    files[CARD_FILE] = model_card(manifest, fairness).encode()
    manifest = manifest.with_card(files[CARD_FILE])
    files[BASELINE_FILE] = pickle.dumps(baseline, protocol=pickle.HIGHEST_PROTOCOL)
    files[MANIFEST_FILE] = manifest.model_dump_json(indent=2).encode()
    _write(Path(out), files)
    return manifest


def _examples(
    frame: pd.DataFrame, months: list[str], config: TrainConfig
) -> tuple[Examples, Examples]:
    """The examples of the model and of the demographics-only baseline, both without the
    excluded fields, each with only the products added often enough to learn."""
    pairs = (month_pair(frame, m) for m in months)
    examples, baseline = addition_examples(pairs, mask_fraction=MASK_FRACTION, seed=config.seed)
    for found in (examples, baseline):
        blank(found.X, config.excluded_features)
    return examples.common(config.min_class_share), baseline.common(config.min_class_share)


def _holdout_metrics(
    model: HistGradientBoostingClassifier,
    frame: pd.DataFrame,
    holdout: str | None,
    config: TrainConfig,
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """MAP@7 of `model` on the holdout month, as served (with the rules) and without the
    rules, and the fairness report of the served ranking (none without a holdout month)."""
    if holdout is None:
        return {}, None
    test = month_pair(frame, holdout)
    scores = holdout_scores(model, test, excluded=config.excluded_features)
    profile = test.encode(with_products=False)
    served = served_scores(scores, config.rules, profile)
    fairness = fairness_report(test.added, served, profile)
    metrics = {
        "holdout_month": holdout,
        "holdout_customers": len(test.ncodpers),
        "map_at_7": map_at_k(test.added, served),
        "map_at_7_without_rules": map_at_k(test.added, scores),
        "perfect": perfect_map(test.added),
        "map_at_7_ratio": {
            name: found["ratio"]["map_at_7"] for name, found in fairness["attributes"].items()
        },
    }
    return metrics, fairness


def _write(out_dir: Path, files: dict[str, bytes]) -> None:
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        for name, content in files.items():
            (out_dir / name).write_bytes(content)
    except OSError as exc:
        raise ValueError(f"cannot write the model to {out_dir}: {exc.strerror or exc}") from exc
