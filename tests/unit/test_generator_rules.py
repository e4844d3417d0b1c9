"""The generator follows a bank's eligibility rules as evaluation reads them: in the written
file, read back by the reader and encoded by bankreco.features, no customer adds a product the
rules withhold from them that month."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bankreco import features
from bankreco.catalog import MONTHS, PRODUCT_CODES
from bankreco.data.dynamics import simulate
from bankreco.data.generate import GenerateResult, generate
from bankreco.data.offers import Offers
from bankreco.data.parameters import BANKS
from bankreco.data.population import draw_population
from bankreco.data.reader import read_snapshots
from bankreco.data.writer import write_csv
from bankreco.eligibility import RuleSet, default_rules, parse_rules
from bankreco.training.dataset import month_pair

ADULTS_ONLY = ["ind_tjcr_fin_ult1", "ind_pres_fin_ult1", "ind_hip_fin_ult1", "ind_plan_fin_ult1"]
JUNIOR = "ind_ctju_fin_ult1"
# Rules that withhold common products from large groups, on every field the file shows as the
# generator draws it (tiprel_1mes aside: the writer flips a few customers' relation type).
BINDING = parse_rules(
    """{"rules": [
    {"product": "ind_cco_fin_ult1", "field": "age", "operator": ">=", "value": 30},
    {"product": "ind_recibo_ult1", "field": "segmento", "operator": "!=",
     "value": "03 - UNIVERSITARIO"},
    {"product": "ind_tjcr_fin_ult1", "field": "nomprov", "operator": "not in",
     "value": ["MADRID", "BARCELONA"]},
    {"product": "ind_ecue_fin_ult1", "field": "sexo", "operator": "==", "value": "V"},
    {"product": "ind_nom_pens_ult1", "field": "renta", "operator": ">=", "value": 80000},
    {"product": "ind_ctma_fin_ult1", "field": "foreign", "operator": "==", "value": 0},
    {"product": "ind_cno_fin_ult1", "field": "antiguedad", "operator": ">", "value": 12},
    {"product": "ind_reca_fin_ult1", "field": "ind_actividad_cliente", "operator": "==",
     "value": 1}
    ]}"""
)


def write(path: Path, rules: RuleSet, customers: int = 3_000, seed: int = 11) -> Path:
    """A file of the santander bank's customers, who are offered products by `rules`."""
    bank = BANKS["santander"]
    pop = draw_population(customers, bank, np.random.default_rng(seed))
    months = simulate(pop, bank, np.random.default_rng(seed + 1), rules)
    write_csv(path, path.with_suffix(".oracle.csv"), pop, months, np.random.default_rng(seed))
    return path


def withheld_additions(path: Path, rules: RuleSet) -> int:
    """Additions in the file (a product held in a month and not the month before) that `rules`
    withhold from the customer in that month, on the features evaluation encodes. Rows with
    blank demographics are left out: the generator reads the profile the writer blanks."""
    frame = read_snapshots(path).frame
    found = 0
    for month in MONTHS[1:]:
        pair = month_pair(frame, month)
        shown = ~np.isnan(pair.profile["age"])
        allowed = rules.allowed(pair.encode(with_products=False))
        found += int((pair.added & ~allowed)[shown].sum())
    return found


@pytest.fixture(scope="module")
def tmp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("rules")


def test_no_addition_breaks_the_rules_and_the_check_would_see_one(tmp: Path) -> None:
    followed = write(tmp / "followed.csv", BINDING)
    assert withheld_additions(followed, BINDING) == 0
    ignored = write(tmp / "ignored.csv", RuleSet())
    assert withheld_additions(ignored, BINDING) > 100


def test_the_rules_read_the_profile_the_file_shows(tmp: Path) -> None:
    """Offers encodes a customer as the reader and features.encode read the written row."""
    bank = BANKS["santander"]
    pop = draw_population(2_000, bank, np.random.default_rng(3))
    months = list(simulate(pop, bank, np.random.default_rng(4), RuleSet()))
    path = tmp / "shown.csv"
    write_csv(path, tmp / "shown.oracle.csv", pop, iter(months), np.random.default_rng(5))
    last = months[-1]
    frame = read_snapshots(path, [MONTHS[-1]]).frame
    assert frame["ncodpers"].tolist() == pop.ncodpers[last.idx].tolist()
    profile = {name: frame[name].to_numpy(dtype=object) for name in features.RAW_FIELDS}
    for name in features.NUMERIC:
        profile[name] = frame[name].to_numpy(dtype=np.float64, na_value=np.nan)
    read = features.encode(profile, None)
    drawn = Offers.of(pop, RuleSet()).encoded(last.idx, last.t, last.active)
    relation = features.FEATURE_NAMES.index("tiprel_1mes")
    for column, name in enumerate(features.PROFILE_FEATURES):
        same = (read[:, column] == drawn[:, column]) | (
            np.isnan(read[:, column]) & np.isnan(drawn[:, column])
        )
        assert same.mean() > (0.98 if column == relation else 0.9999), name


@pytest.fixture(scope="module")
def generated(tmp: Path) -> GenerateResult:
    return generate(tmp / "train.csv", 8_000, 9)


@pytest.fixture(scope="module")
def rows(generated: GenerateResult) -> pd.DataFrame:
    return read_snapshots(generated.csv_path).frame


def test_generate_follows_the_default_rules(generated: GenerateResult) -> None:
    assert withheld_additions(generated.csv_path, default_rules()) == 0


def test_minors_never_hold_adult_products_and_adults_keep_a_junior_account(
    rows: pd.DataFrame,
) -> None:
    age = rows["age"].to_numpy(dtype=np.float64, na_value=np.nan)
    minor = age < 18
    assert minor.sum() > 1_000
    assert (rows.loc[minor, ADULTS_ONLY].to_numpy() == 0).all()
    assert (rows.loc[minor, JUNIOR] == 1).sum() > 100
    assert (rows.loc[age >= 18, JUNIOR] == 1).sum() > 0  # opened as minors, kept at 18


def test_no_junior_account_is_opened_at_18_or_over(rows: pd.DataFrame) -> None:
    ordered = rows.sort_values(["ncodpers", "fecha_dato"], kind="stable")
    before = ordered.groupby("ncodpers")[JUNIOR].shift(1)
    opened = (ordered[JUNIOR] == 1) & (before == 0)
    assert opened.sum() > 0
    assert not (ordered.loc[opened, "age"] >= 18).any()  # minors, or blank in the first months


def test_the_oracle_gives_withheld_products_no_chance(
    generated: GenerateResult, rows: pd.DataFrame
) -> None:
    oracle = pd.read_csv(generated.oracle_path).set_index("ncodpers")
    last = rows[rows["fecha_dato"] == MONTHS[-1]].set_index("ncodpers").loc[oracle.index]
    minor = (last["age"] < 18).to_numpy()
    assert minor.any()
    assert (~minor).any()
    assert (oracle.loc[minor, ADULTS_ONLY].to_numpy() == 0).all()
    assert (oracle.loc[~minor, JUNIOR] == 0).all()
    assert (oracle.loc[minor, JUNIOR] > 0).any()
    assert (oracle.loc[~minor, "ind_tjcr_fin_ult1"] > 0).any()
    assert list(oracle.columns) == list(PRODUCT_CODES)
