"""A model directory on disk, as `bankreco train` writes it, from a model's artifacts."""

from __future__ import annotations

from pathlib import Path

from bankreco.domain.manifest import MANIFEST_FILE, Manifest


def model_dir(path: Path, artifacts: tuple[Manifest, dict[str, bytes]]) -> Path:
    """`path`, created, holding the manifest and every file of `artifacts`."""
    manifest, files = artifacts
    path.mkdir()
    (path / MANIFEST_FILE).write_text(manifest.model_dump_json())
    for name, data in files.items():
        (path / name).write_bytes(data)
    return path
