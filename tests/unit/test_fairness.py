"""Fairness: the group figures against a hand computation, and a model trained without a
profile field: recorded, never split on, and ignored when served."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bankreco import features
from bankreco.catalog import PRODUCT_CODES
from bankreco.data.generate import generate
from bankreco.domain.manifest import COMPACT_FILE, read_model_dir
from bankreco.domain.model import LoadedModel
from bankreco.training.fairness import (
    UNKNOWN,
    age_band,
    fairness_report,
    groups,
    lowest_ratio,
    markdown,
    recommended,
)
from bankreco.training.train import TrainConfig, train
from tests.conftest import random_profiles

SEX_COLUMN = features.PROFILE_FEATURES.index("sexo")


def small_month() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Five customers, products 0..3 scored above 0 and the rest held (-1).

    0: H, 20, adds product 0, ranked 1st -> AP 1
    1: H, 30, adds product 1, ranked 2nd -> AP 1/2
    2: V, 40, adds nothing              -> AP 0
    3: V, 70, adds product 0, ranked 1st -> AP 1
    4: V, age unknown, adds product 20 (scored -1, ranked past the top 7) -> AP 0
    """
    profile = random_profiles(5, np.random.default_rng(0))
    profile["sexo"] = np.array(["H", "H", "V", "V", "V"], dtype=object)
    profile["age"] = np.array([20.0, 30.0, 40.0, 70.0, np.nan])
    encoded = features.encode(profile, np.zeros((5, len(PRODUCT_CODES))))
    scores = np.full((5, len(PRODUCT_CODES)), -1.0)
    scores[:, :3] = [0.5, 0.3, 0.2]  # everyone is shown products 0, 1 and 2
    scores[4, 2] = -1.0  # customer 4 holds product 2: not shown
    added = np.zeros((5, len(PRODUCT_CODES)), dtype=bool)
    added[[0, 1, 3, 4], [0, 1, 0, 20]] = True
    return added, scores, encoded


def test_group_figures_match_a_hand_computation() -> None:
    added, scores, encoded = small_month()
    report = fairness_report(added, scores, encoded, min_group=1)
    sex = report["attributes"]["sexo"]
    assert list(sex["groups"]) == ["H", "V"]
    assert sex["groups"]["H"]["customers"] == 2
    assert sex["groups"]["H"]["map_at_7"] == pytest.approx((1 + 1 / 2) / 2)
    assert sex["groups"]["V"]["map_at_7"] == pytest.approx((0 + 1 + 0) / 3)
    assert sex["groups"]["V"]["perfect"] == pytest.approx(2 / 3)
    assert sex["ratio"]["map_at_7"] == pytest.approx((1 / 3) / (3 / 4))
    assert sex["ratio"]["perfect"] == pytest.approx((2 / 3) / 1)
    # products 0 and 1 go to everyone; product 2 to all but customer 4 (who holds it)
    shown = PRODUCT_CODES[:3]
    assert list(sex["groups"]["V"]["recommended"]) == list(shown)
    assert sex["groups"]["H"]["recommended"][shown[2]] == 1.0
    assert sex["groups"]["V"]["recommended"][shown[2]] == pytest.approx(2 / 3)
    assert sex["ratio"]["recommended"][shown[0]] == 1.0
    assert sex["ratio"]["recommended"][shown[2]] == pytest.approx(2 / 3)
    assert lowest_ratio(sex) == (shown[2], pytest.approx(2 / 3))
    ages = report["attributes"]["age_band"]
    assert list(ages["groups"]) == ["<25", "25-34", "35-44", "65+", UNKNOWN]  # in age order
    assert ages["ratio"]["map_at_7"] == 0.0  # a group with MAP@7 0 over the best one


def test_small_groups_are_listed_but_left_out_of_the_ratios() -> None:
    added, scores, encoded = small_month()
    sex = fairness_report(added, scores, encoded, min_group=3)["attributes"]["sexo"]
    assert list(sex["groups"]) == ["V"]
    assert sex["left_out"] == {"H": 2}
    assert sex["ratio"]["map_at_7"] == 1.0  # one group: parity with itself
    none_left = fairness_report(added, scores, encoded, min_group=10)["attributes"]["sexo"]
    assert none_left["groups"] == {}
    assert none_left["ratio"]["map_at_7"] is None
    assert "no group of 10 customers or more" in "\n".join(
        markdown(fairness_report(added, scores, encoded, min_group=10))
    )


def test_a_ratio_over_zero_is_undefined_not_nan() -> None:
    added, scores, encoded = small_month()
    report = fairness_report(np.zeros_like(added), scores, encoded, min_group=1)
    assert report["attributes"]["sexo"]["ratio"]["map_at_7"] is None  # 0 / 0
    table = "\n".join(markdown(report))
    assert "| MAP@7 | 0.0000 | 0.0000 | - |" in table


def test_age_bands_and_groups_from_the_encoded_features() -> None:
    ages = np.array([0, 17, 24.9, 25, 34, 35, 45, 55, 64.5, 65, 104, np.nan])
    assert age_band(ages) == [
        "<25", "<25", "<25", "25-34", "25-34", "35-44", "45-54", "55-64", "55-64", "65+", "65+",
        UNKNOWN,
    ]  # fmt: skip
    profile = random_profiles(3, np.random.default_rng(1))
    profile["sexo"] = np.array(["V", None, "H"], dtype=object)
    profile["segmento"] = np.array(["01 - TOP", "nonsense", "03 - UNIVERSITARIO"], dtype=object)
    found = groups(features.encode(profile, None))
    assert found["sexo"] == ["V", UNKNOWN, "H"]
    assert found["segmento"] == ["01 - TOP", UNKNOWN, "03 - UNIVERSITARIO"]


def test_recommended_is_the_top_seven_scored_above_zero() -> None:
    scores = np.tile(np.linspace(0.9, -0.2, len(PRODUCT_CODES)), (2, 1))
    scores[1, 0] = -1.0  # held
    top = recommended(scores)
    assert top[0].sum() == 7
    assert top[0, :7].all()
    assert not top[1, 0]
    assert top[1].sum() == 7
    scores[:, 5:] = 0.0  # never learned
    assert recommended(scores)[1].sum() == 4


def test_figures_are_those_of_fairlearns_metric_frame() -> None:
    import fairlearn.metrics as fairlearn  # a dev dependency: the reference the figures match

    rng = np.random.default_rng(5)
    n = 3000
    encoded = features.encode(random_profiles(n, rng), None)
    added = rng.random((n, len(PRODUCT_CODES))) < 0.02
    scores = rng.random((n, len(PRODUCT_CODES)))
    report = fairness_report(added, scores, encoded)
    labels = pd.Series(groups(encoded)["segmento"], name="segment")
    top = recommended(scores)
    frame = fairlearn.MetricFrame(
        metrics={"rate": lambda truth, shown: float(np.mean(shown))},
        y_true=added[:, 4],
        y_pred=top[:, 4],
        sensitive_features=labels,
    )
    mine = report["attributes"]["segmento"]
    for group, rate in frame.by_group["rate"].items():
        assert mine["groups"][group]["recommended"][PRODUCT_CODES[4]] == pytest.approx(rate)
    assert mine["ratio"]["recommended"][PRODUCT_CODES[4]] == pytest.approx(frame.ratio()["rate"])


# A model trained without sexo.


@pytest.fixture(scope="module")
def trained_without_sex(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("without_sex")
    data = root / "train.csv"
    generate(data, 1500, 11)
    out = root / "model"
    config = TrainConfig(max_iter=15, excluded_features=("sexo",))
    train(data, out, config, progress=False)
    return out


def test_the_manifest_records_the_exclusion_and_the_rules(trained_without_sex: Path) -> None:
    manifest, files = read_model_dir(trained_without_sex)
    assert manifest.excluded_features == ["sexo"]
    assert manifest.rules is not None
    assert manifest.rules.name == "santander-default"
    assert "sexo" not in manifest.training["params"]
    assert set(manifest.metrics["map_at_7_ratio"]) == {"sexo", "age_band", "segmento"}
    assert manifest.card is not None
    manifest.verify_file(manifest.card.file, files[manifest.card.file])


def test_no_tree_splits_on_the_excluded_field(trained_without_sex: Path) -> None:
    import pickle

    manifest, files = read_model_dir(trained_without_sex)
    estimator = pickle.loads(files[manifest.model_file])
    split_on = {
        int(node["feature_idx"])
        for trees in estimator._predictors
        for tree in trees
        for node in tree.nodes
        if not node["is_leaf"]
    }
    assert SEX_COLUMN not in split_on
    assert features.PROFILE_FEATURES.index("age") in split_on  # the others are used
    baseline = pickle.loads((trained_without_sex / "demographics_only.pkl").read_bytes())
    assert all(
        int(node["feature_idx"]) != SEX_COLUMN
        for trees in baseline._predictors
        for tree in trees
        for node in tree.nodes
        if not node["is_leaf"]
    )


def test_serving_ignores_the_excluded_field(trained_without_sex: Path) -> None:
    manifest, files = read_model_dir(trained_without_sex)
    model = LoadedModel.from_artifact("b", "v1", manifest, COMPACT_FILE, files[COMPACT_FILE])
    forest = model.estimator
    tests = np.isfinite(forest.threshold)  # padding nodes test column 0 against +inf
    assert SEX_COLUMN not in set(forest.feature[tests].tolist())
    profile = random_profiles(200, np.random.default_rng(4))
    owned = (np.random.default_rng(5).random((200, len(PRODUCT_CODES))) < 0.1).astype(float)
    answers = []
    for sex in ("H", "V", None):
        profile["sexo"] = np.full(200, sex, dtype=object)
        answers.append(model.probabilities(features.encode(profile, owned)))
    np.testing.assert_array_equal(answers[0], answers[1])
    np.testing.assert_array_equal(answers[0], answers[2])
    assert answers[0].std(axis=0).max() > 0  # the other fields do change the answer


def test_sex_is_excluded_unless_a_run_says_otherwise() -> None:
    assert TrainConfig().excluded_features == ("sexo",)
    assert TrainConfig(excluded_features=()).excluded_features == ()


def test_an_unknown_field_cannot_be_excluded() -> None:
    with pytest.raises(ValueError, match=r"cannot exclude 'gender': not a profile field \(sexo"):
        TrainConfig(excluded_features=("sexo", "gender"))
