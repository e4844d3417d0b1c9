"""State shared by the rows of one run: the prepared benchmark and numbers rows reuse."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.setup import Bench, Scale

RESULTS_FILE = "results.json"
_SAVING = threading.Lock()


@dataclass
class Session:
    """One run of the harness."""

    workdir: Path
    scale: Scale
    bench: Bench | None = None  # None when no selected row needs the served model
    memo: dict[str, Any] = field(default_factory=dict)

    def need(self) -> Bench:
        if self.bench is None:
            raise RuntimeError("this row needs the prepared model (setup was skipped)")
        return self.bench

    def command(self, row: str) -> str:
        return f"python -m bench --only {row}" + (" --quick" if self.scale.quick else "")

    def _results_path(self) -> Path:
        return self.workdir / RESULTS_FILE

    def saved(self) -> dict[str, Any]:
        """Raw numbers of earlier runs at this scale, by row."""
        path = self._results_path()
        if not path.exists():
            return {}
        found: dict[str, Any] = json.loads(path.read_text())
        return dict(found.get("quick" if self.scale.quick else "full", {}))

    def save(self, row: str, data: dict[str, Any]) -> None:
        with _SAVING:  # rows of a smoke run finish on two threads
            path = self._results_path()
            everything = json.loads(path.read_text()) if path.exists() else {}
            everything.setdefault("quick" if self.scale.quick else "full", {})[row] = data
            path.write_text(json.dumps(everything, indent=2))
