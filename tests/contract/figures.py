"""The fuzzing run's figures: the cases each operation, phase and mode ran, and the statuses
they got."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

#: (operation, phase, mode, status) -> cases, in this process.
CASES: Counter[tuple[str, str, str, int]] = Counter()


def record(operation: str, phase: str, mode: str, status: int) -> None:
    CASES[operation, phase, mode, status] += 1


def ran(operation: str | None = None) -> int:
    """The cases run, of `operation` or of all."""
    return sum(n for key, n in CASES.items() if operation in (None, key[0]))


def summary() -> Iterator[str]:
    """The figures as lines: per operation, per phase and mode, per mode and status."""
    tables: list[Counter[str]] = [Counter(), Counter(), Counter()]
    for (operation, phase, mode, status), count in CASES.items():
        tables[0][operation] += count
        tables[1][f"{phase} / {mode}"] += count
        tables[2][f"{mode} -> {status}"] += count
    for table in tables:
        for name, count in sorted(table.items()):
            yield f"  {name:34} {count:7,d}"
        yield ""
    yield f"  {'total':34} {ran():7,d}"
