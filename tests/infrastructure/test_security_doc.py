"""docs/security.md: every test its controls table names exists."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: `test_x.py::test_y` (a test of tests/infrastructure) or `tests/<dir>/test_x.py::test_y`.
REFERENCE = re.compile(r"`((?:tests/\w+/)?test_\w+\.py)::(test_\w+)`")


def test_every_named_test_exists() -> None:
    doc = (ROOT / "docs" / "security.md").read_text(encoding="utf-8")
    references = REFERENCE.findall(doc)
    assert len(references) >= 20
    missing = []
    for module, name in references:
        path = ROOT / module if module.startswith("tests/") else Path(__file__).parent / module
        source = path.read_text(encoding="utf-8")
        if not re.search(rf"^def {name}\(", source, re.MULTILINE):
            missing.append(f"{module}::{name}")
    assert not missing
