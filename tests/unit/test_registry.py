"""Publishing signed, listing, rolling back and fetching versions in a local store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bankreco.domain.manifest import Manifest
from bankreco.domain.registry import Registry
from bankreco.errors import (
    IntegrityError,
    ModelNotPublished,
    ModelRejected,
    ObjectExists,
    ObjectNotFound,
    UnknownBank,
)
from bankreco.store.local import LocalStore

Artifacts = list[tuple[Manifest, dict[str, bytes]]]


@pytest.fixture
def registry(tmp_path: Path) -> Registry:
    return Registry(LocalStore(tmp_path / "models"))


def test_publish_writes_the_layout_signed_and_moves_the_pointer(
    registry: Registry, model_artifacts: Artifacts, tmp_path: Path
) -> None:
    manifest, files = model_artifacts[0]
    version = registry.publish("alpha", manifest, files)
    root = tmp_path / "models" / "alpha"
    for name, data in files.items():
        assert (root / "versions" / version / name).read_bytes() == data
    assert sorted(files) == ["model.forest.npz", "model.pkl"]
    written = sorted(p.name for p in (root / "versions" / version).iterdir())
    assert written == ["manifest.json", "model.forest.npz", "model.pkl", "model.sig"]
    stored = json.loads((root / "versions" / version / "manifest.json").read_text())
    assert stored["model_sha256"] == manifest.model_sha256
    assert json.loads((root / "current.json").read_text())["version"] == version
    pointer = registry.read_pointer("alpha")
    assert pointer.version == version
    assert registry.read_pointer_if_changed("alpha", pointer.etag) is None  # not modified
    assert registry.read_pointer_if_changed("alpha", "other") == pointer


def test_versions_are_immutable_and_listed_with_rollback(
    registry: Registry, model_artifacts: Artifacts
) -> None:
    first = registry.publish("alpha", *model_artifacts[0])
    second = registry.publish("alpha", *model_artifacts[1])
    assert registry.versions("alpha") == [first, second]
    registry.set_current("alpha", first)
    pointer = registry.read_pointer("alpha")
    assert pointer is not None
    assert pointer.version == first
    _, name, data = registry.fetch("alpha", second)
    assert (name, data) == ("model.forest.npz", model_artifacts[1][1]["model.forest.npz"])
    verified = registry.verify("alpha", second)
    assert verified.signed is not None
    assert sorted(verified.signed.digests) == ["manifest.json", "model.forest.npz", "model.pkl"]


def test_a_stored_file_is_never_overwritten(registry: Registry, tmp_path: Path) -> None:
    store = registry.store
    store.write_new("alpha/versions/v1/model.sig", b"first")
    with pytest.raises(ObjectExists, match="already exists"):
        store.write_new("alpha/versions/v1/model.sig", b"second")
    assert store.read("alpha/versions/v1/model.sig").data == b"first"
    assert store.list("alpha") == ["alpha/versions/v1/model.sig"]  # no temporary file left


def test_publish_refuses_a_pickle_that_does_not_match(
    registry: Registry, model_artifacts: Artifacts
) -> None:
    manifest, files = model_artifacts[0]
    for name in files:
        with pytest.raises(IntegrityError, match="checksum"):
            registry.publish("alpha", manifest, {**files, name: files[name] + b"x"})
    with pytest.raises(IntegrityError, match="expected the files"):
        registry.publish("alpha", manifest, {"model.pkl": files["model.pkl"]})
    assert registry.versions("alpha") == []


def test_publish_refuses_an_unreadable_feature_spec(
    registry: Registry, model_artifacts: Artifacts
) -> None:
    manifest, files = model_artifacts[0]
    other = manifest.model_copy(update={"features": {**manifest.features, "sha256": "0" * 64}})
    with pytest.raises(IntegrityError, match="feature spec"):
        registry.publish("alpha", other, files)
    wrong = manifest.model_copy(update={"classes": ["ind_bogus"]})
    with pytest.raises(IntegrityError, match="product codes"):
        registry.publish("alpha", wrong, files)


@pytest.mark.parametrize("bank", ["../etc", "Alpha", "", "a/b", "a" * 64, "-x"])
def test_hostile_bank_ids_never_reach_a_key(registry: Registry, bank: str) -> None:
    with pytest.raises(UnknownBank):
        registry.read_pointer(bank)


def test_rollback_to_a_missing_or_invalid_version_is_refused(
    registry: Registry, model_artifacts: Artifacts
) -> None:
    registry.publish("alpha", *model_artifacts[0])
    with pytest.raises(IntegrityError, match="incomplete"):
        registry.set_current("alpha", "v20990101T000000000Z-deadbeef")
    with pytest.raises(ObjectNotFound):
        registry.set_current("alpha", "../../beta")


def test_rollback_to_an_unsigned_version_is_refused(
    registry: Registry, model_artifacts: Artifacts
) -> None:
    first = registry.publish("alpha", *model_artifacts[0])
    registry.publish("alpha", *model_artifacts[1])
    Path(registry.store.uri, "alpha", "versions", first, "model.sig").unlink()
    with pytest.raises(ModelRejected, match="not signed"):
        registry.set_current("alpha", first)


def test_unpublished_bank_and_broken_pointer(registry: Registry, tmp_path: Path) -> None:
    with pytest.raises(ModelNotPublished):
        registry.read_pointer("alpha")
    registry.store.write("alpha/current.json", b"not json")
    with pytest.raises(IntegrityError):
        registry.read_pointer("alpha")


def test_local_store_refuses_escaping_keys(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    for key in ("../x", "a//b", "", "a/./b"):
        with pytest.raises(ValueError, match="invalid key"):
            store.write(key, b"")
        with pytest.raises(ValueError, match="invalid key"):
            store.write_new(key, b"")
    store.write("a/b", b"1")
    assert store.list("a") == ["a/b"]
    assert store.list("missing") == []
