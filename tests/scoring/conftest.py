"""Fixtures of the scoring tests: a real small model, in memory and published to a store."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from bankreco.domain.manifest import COMPACT_FILE
from bankreco.domain.model import LoadedModel
from bankreco.domain.registry import Registry
from bankreco.scoring.checks import Checked, Checker
from bankreco.scoring.csvblocks import read_blocks, split_header
from bankreco.scoring.layout import layout_of
from bankreco.store.local import LocalStore
from tests.conftest import Artifacts

BANK = "demo"  # a bank whose signing key the session's fixtures made


@pytest.fixture(scope="session")
def model(model_artifacts: list[Artifacts]) -> LoadedModel:
    """The first small model, loaded as the registry would load it."""
    manifest, files = model_artifacts[0]
    return LoadedModel.from_artifact(BANK, "v1", manifest, COMPACT_FILE, files[COMPACT_FILE])


@pytest.fixture(scope="session")
def bank_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated train_ver2.csv of 400 customers over 17 months."""
    from bankreco.data.generate import generate

    path = tmp_path_factory.mktemp("data") / "train_ver2.csv"
    generate(path, 400, 5)
    return path


@pytest.fixture
def local_store(tmp_path: Path, model_artifacts: list[Artifacts]) -> tuple[str, str]:
    """A local store with the first model published as bank demo's current version:
    (store directory, version)."""
    store = tmp_path / "models"
    version = Registry(LocalStore(store)).publish(BANK, *model_artifacts[0])
    return str(store), version


def check_text(text: str, block_bytes: int = 1 << 20, **options: object) -> list[Checked]:
    """Every block of a CSV text, checked."""
    stream = io.BytesIO(text.encode())
    names, pending = split_header(stream)
    layout = layout_of(names)
    checker = Checker(layout, **options)  # type: ignore[arg-type]
    blocks = read_blocks(
        stream, len(names), list(layout.columns.values()), pending=pending, block_bytes=block_bytes
    )
    return [checker.check(block) for block in blocks]
