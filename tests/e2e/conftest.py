"""One generated bank, trained once for every end-to-end test of the session."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from bankreco.data.generate import generate
from bankreco.training.evaluate import Evaluation, evaluate
from bankreco.training.train import TrainConfig, train

CUSTOMERS = 60_000
SEED = 20261125  # not a seed the generator or the model were tuned on


@dataclass(frozen=True)
class TrainedBank:
    data: Path
    model_dir: Path
    evaluation: Evaluation


@pytest.fixture(scope="session")
def trained_bank(tmp_path_factory: pytest.TempPathFactory) -> TrainedBank:
    root = tmp_path_factory.mktemp("bank")
    data = root / "train_ver2.csv"
    generate(data, CUSTOMERS, SEED, "santander")
    model_dir = root / "model"
    train(data, model_dir, TrainConfig(seed=SEED), progress=False)
    return TrainedBank(data, model_dir, evaluate(data, model_dir))
