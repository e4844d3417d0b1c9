"""Contract fixtures: the real handler behind the WSGI application, on a model published to
a local directory store, and the figures of the fuzzing run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bankreco.domain.registry import Registry
from bankreco.store.local import LocalStore
from tests.contract import figures

Artifacts = list[tuple[Any, dict[str, bytes]]]


@pytest.fixture
def published(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, model_artifacts: Artifacts) -> str:
    """The stage's bank `demo` with a model published to a local store; its version."""
    store = tmp_path / "models"
    version = Registry(LocalStore(store)).publish("demo", *model_artifacts[0])
    monkeypatch.setenv("MODEL_STORE_URI", str(store))
    monkeypatch.setenv("BANK_ID", "demo")
    return version


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """The fuzzing run's figures, when it ran: cases per phase and generation mode."""
    if figures.CASES:
        terminalreporter.write_sep("=", "schemathesis: cases run against the real handler")
        for line in figures.summary():
            terminalreporter.write_line(line)
