"""The model a run scores with: a published version, read through the registry (so its
signature and files are verified as the API's are), or a model directory `bankreco train`
wrote, for trying a model before it is published."""

from __future__ import annotations

from pathlib import Path

from bankreco.domain.manifest import read_model_dir
from bankreco.domain.model import LoadedModel
from bankreco.domain.registry import Registry
from bankreco.errors import ModelRejected
from bankreco.ids import check_bank

UNPUBLISHED = "unpublished"


def published_model(registry: Registry, bank: str, version: str | None = None) -> LoadedModel:
    """`bank`'s `version` (None: the current one), verified by the registry."""
    version = version or registry.read_pointer(check_bank(bank)).version
    manifest, name, data = registry.fetch(bank, version)
    return LoadedModel.from_artifact(bank, version, manifest, name, data)


def trained_model(directory: Path, bank: str) -> LoadedModel:
    """The compact form in a training output directory, checked against its manifest; its
    version is `unpublished-` and the first 8 digits of the model's sha256."""
    manifest, files = read_model_dir(directory)
    if manifest.compact is None:
        raise ModelRejected(f"{directory} has no compact form (model.forest.npz) to score with")
    name = manifest.compact.file
    manifest.verify_file(name, files[name])
    version = f"{UNPUBLISHED}-{manifest.model_sha256[:8]}"
    return LoadedModel.from_artifact(check_bank(bank), version, manifest, name, files[name])
