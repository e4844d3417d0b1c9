"""The installed `bankreco` command run as a subprocess, on files generated once a session."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

BANKRECO = Path(sys.executable).with_name("bankreco")
CUSTOMERS = 1000  # the fewest that give every product the model learns enough additions


@dataclass(frozen=True)
class Run:
    """What one run of the command printed and returned."""

    code: int
    out: str
    err: str

    @property
    def err_lines(self) -> list[str]:
        return self.err.splitlines()


def bankreco(*args: str | Path, env: dict[str, str] | None = None) -> Run:
    """Run the installed command with `args`; its exit code, stdout and stderr."""
    done = subprocess.run(
        [str(BANKRECO), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **(env or {})},
        check=False,
    )
    return Run(done.returncode, done.stdout, done.stderr)


@pytest.fixture(scope="session")
def data_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated train_ver2.csv of CUSTOMERS customers (2 MB), with its oracle beside it."""
    path = tmp_path_factory.mktemp("data") / "train_ver2.csv"
    run = bankreco("generate", "--out", path, "--customers", CUSTOMERS, "--seed", 3, "--quiet")
    assert run.code == 0, run.err
    return path


@pytest.fixture(scope="session")
def model_dir(data_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model trained on `data_file` with the default recipe."""
    out = tmp_path_factory.mktemp("model") / "model"
    run = bankreco("train", "--data", data_file, "--out", out, "--quiet")
    assert run.code == 0, run.err
    return out


CopyWithout = Callable[[Path, tuple[str, ...]], Path]


@pytest.fixture
def copy_without(data_file: Path) -> CopyWithout:
    """Copy `data_file` to a path without the named columns."""

    def copy(target: Path, columns: tuple[str, ...]) -> Path:
        with data_file.open(newline="") as source, target.open("w", newline="") as out:
            rows = csv.reader(source)
            header = next(rows)
            keep = [i for i, name in enumerate(header) if name not in columns]
            writer = csv.writer(out, lineterminator="\n")
            writer.writerow([header[i] for i in keep])
            writer.writerows([row[i] for i in keep] for row in rows)
        return target

    return copy
