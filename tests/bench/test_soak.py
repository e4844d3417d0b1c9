"""A short soak: many threads, banks and evictions, new versions published meanwhile."""

from __future__ import annotations

from pathlib import Path

from bankreco.domain.manifest import MANIFEST_FILE, Manifest
from bench.soak import Plan, run

Artifacts = list[tuple[Manifest, dict[str, bytes]]]


def test_a_short_soak_has_no_errors_and_one_load_per_version_at_a_time(
    tmp_path: Path, model_artifacts: Artifacts
) -> None:
    manifest, files = model_artifacts[0]
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    (tmp_path / MANIFEST_FILE).write_text(manifest.model_dump_json())
    figures = run(Plan(requests=1_600, banks=6, threads=8, cache_models=2, ttl=0.5), tmp_path)
    assert figures["errors"] == {}
    assert figures["requests"] == 1_600
    assert figures["version_reads"] > 12  # evictions made the banks load again and again
    assert figures["most_loads_of_one_version_at_once"] == 1
