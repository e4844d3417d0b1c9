"""Signed versions in a local store: keys, the signature format, every refusal, and what the
function deserializes (the compact form without pickles, a signed skops form on opt-in)."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import logging
import pickle
import stat
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bankreco.domain.forest import CompiledForest
from bankreco.domain.manifest import COMPACT_FILE, MODEL_FILE, PORTABLE_FILE, Manifest
from bankreco.domain.model import LoadedModel
from bankreco.domain.registry import Policy, Registry
from bankreco.errors import IntegrityError, KeyUnavailable, ModelRejected
from bankreco.observability import metrics
from bankreco.signing import ecdsa
from bankreco.signing.keys import KeyRing
from bankreco.signing.kms import KmsKeys
from bankreco.signing.local import LocalKeys, LocalSigner, default_keys_dir
from bankreco.signing.statement import SIGNATURE_FILE
from bankreco.store.local import LocalStore
from tests.support import tampering
from tests.support.tampering import Scene

Artifact = tuple[Manifest, dict[str, bytes]]
Artifacts = list[Artifact]


@pytest.fixture
def store(tmp_path: Path) -> LocalStore:
    return LocalStore(tmp_path / "models")


@pytest.fixture
def scene(
    store: LocalStore, tmp_path: Path, model_artifacts: Artifacts, pickle_only_artifacts: Artifact
) -> Scene:
    registry = Registry(store)
    return Scene(registry, "alpha", *model_artifacts, pickle_only_artifacts, tmp_path)


def test_keys_init_makes_a_private_key_only_its_owner_reads(tmp_path: Path) -> None:
    keys = LocalKeys(tmp_path / "keys")
    assert keys.init("alpha")
    directory = keys.directory("alpha")
    assert stat.S_IMODE((directory / "private.pem").stat().st_mode) == 0o600
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    assert (directory / "public.pem").read_bytes().startswith(b"-----BEGIN PUBLIC KEY-----\n")
    assert not keys.init("alpha")  # kept: a new pair would orphan every signed version
    assert keys.signer("alpha").public_key() == keys.trusted_key("alpha")
    assert sorted(p.name for p in directory.iterdir()) == ["private.pem", "public.pem"]


def test_a_lone_public_key_is_never_replaced(tmp_path: Path) -> None:
    keys = LocalKeys(tmp_path)
    keys.directory("alpha").mkdir()
    (keys.directory("alpha") / "public.pem").write_bytes(b"anchor")
    with pytest.raises(KeyUnavailable, match="not replacing it"):
        keys.init("alpha")
    with pytest.raises(KeyUnavailable, match="keys init --bank beta"):
        keys.signer("beta")
    assert keys.trusted_key("beta") is None


def test_the_default_key_directory_is_under_the_users_config(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert default_keys_dir() == tmp_path / "bankreco" / "keys"
    monkeypatch.delenv("XDG_CONFIG_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_keys_dir() == tmp_path / "home" / ".config" / "bankreco" / "keys"


def test_the_key_hint_is_the_sha256_of_the_keys_pem(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization

    keys = LocalKeys(tmp_path)
    keys.init("alpha")
    public = (keys.directory("alpha") / "public.pem").read_bytes()
    key = keys.trusted_key("alpha")
    assert key is not None
    loaded = serialization.load_pem_public_key(public)
    der = loaded.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert (key.der, key.pem) == (der, public)
    assert key.fingerprint == hashlib.sha256(public).hexdigest()


def test_the_signature_is_the_bundle_model_signing_verifies(
    scene: Scene, signing_keys: Path, tmp_path: Path
) -> None:
    """What `model_signing verify key` checks (model-signing 1.x, private-key bundles), checked
    here without it: a bank's security team runs it on a downloaded version directory."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    version = scene.registry.publish("alpha", *scene.good)
    directory = tmp_path / "models" / "alpha" / "versions" / version
    public = (signing_keys / "alpha" / "public.pem").read_bytes()
    bundle = json.loads((directory / SIGNATURE_FILE).read_bytes())
    assert bundle["mediaType"] == "application/vnd.dev.sigstore.bundle.v0.3+json"
    assert bundle["verificationMaterial"] == {
        "publicKey": {"hint": hashlib.sha256(public).hexdigest()},
        "tlogEntries": [],
    }
    envelope = bundle["dsseEnvelope"]
    payload = base64.b64decode(envelope["payload"])
    pae = b"DSSEv1 28 application/vnd.in-toto+json %d %s" % (len(payload), payload)
    key = serialization.load_pem_public_key(public)
    assert isinstance(key, ec.EllipticCurvePublicKey)
    key.verify(base64.b64decode(envelope["signatures"][0]["sig"]), pae, ec.ECDSA(hashes.SHA256()))
    statement = json.loads(payload)
    assert statement["_type"] == "https://in-toto.io/Statement/v1"
    assert statement["predicateType"] == "https://model_signing/signature/v1.0"
    files = sorted(p.name for p in directory.iterdir() if p.name != SIGNATURE_FILE)
    digests = [hashlib.sha256((directory / name).read_bytes()).hexdigest() for name in files]
    predicate = statement["predicate"]
    assert predicate["resources"] == [
        {"name": name, "algorithm": "sha256", "digest": digest}
        for name, digest in zip(files, digests, strict=True)
    ]
    root = hashlib.sha256(b"".join(bytes.fromhex(d) for d in digests)).hexdigest()
    assert statement["subject"] == [{"name": version, "digest": {"sha256": root}}]
    assert predicate["serialization"] == {
        "method": "files",
        "hash_type": "sha256",
        "allow_symlinks": False,
        "ignore_paths": [SIGNATURE_FILE],
    }
    assert predicate["bankreco"] == {
        "bank": "alpha",
        "version": version,
        "manifest_sha256": digests[files.index("manifest.json")],
        "key_id": f"local:{hashlib.sha256(public).hexdigest()}",
    }


class OneKey:
    """Every bank signed with one key pair (a publisher reusing a key across banks)."""

    def __init__(self, root: Path) -> None:
        self.local = LocalKeys(root)
        self.local.init("shared")

    def trusted_key(self, bank: str) -> Any:
        return self.local.trusted_key("shared")

    def signer(self, bank: str, create: bool = False) -> LocalSigner:
        return self.local.signer("shared")


def test_the_signature_names_its_bank_and_version(
    store: LocalStore, tmp_path: Path, model_artifacts: Artifacts
) -> None:
    registry = Registry(store, OneKey(tmp_path / "keys"), Policy())
    version = registry.publish("alpha", *model_artifacts[0])
    tampering.copy_version(store, f"alpha/versions/{version}", f"beta/versions/{version}")
    with pytest.raises(ModelRejected, match=f"signed as alpha/{version}, not beta/{version}"):
        registry.fetch("beta", version)
    other = tampering.new_version()
    tampering.copy_version(store, f"alpha/versions/{version}", f"alpha/versions/{other}")
    with pytest.raises(ModelRejected, match=f"signed as alpha/{version}, not alpha/{other}"):
        registry.fetch("alpha", other)


@pytest.mark.parametrize(
    ("content", "reason"),
    [(b"{}", "malformed"), (b"\xff" * 10, "malformed"), (b" " * 70_000, "over 65536 bytes")],
)
def test_a_malformed_signature_file_is_refused(scene: Scene, content: bytes, reason: str) -> None:
    version = scene.registry.publish("alpha", *scene.good)
    scene.store.write(f"alpha/versions/{version}/{SIGNATURE_FILE}", content)
    with pytest.raises(ModelRejected, match=reason):
        scene.registry.fetch("alpha", version)


def test_a_bank_without_a_trusted_key_is_never_served(scene: Scene, tmp_path: Path) -> None:
    version = scene.registry.publish("alpha", *scene.good)
    serving = Registry(scene.store, KeyRing({}, tmp_path / "empty"), Policy())
    with pytest.raises(ModelRejected, match="no key is trusted for bank alpha"):
        serving.fetch("alpha", version)


def test_refusals_are_counted_and_logged(scene: Scene, caplog: pytest.LogCaptureFixture) -> None:
    version = tampering.unsigned(scene)
    with pytest.raises(ModelRejected, match=f"alpha/{version} is refused: it is not signed"):
        scene.registry.fetch("alpha", version)
    assert metrics.metric_set["ModelRejected"]["Value"] == [1.0]
    warned = [r for r in caplog.records if r.getMessage() == "model version rejected"]
    assert [(r.levelno, r.version) for r in warned] == [(logging.WARNING, version)]  # type: ignore[attr-defined]


def test_unsigned_compact_versions_are_served_only_when_signatures_are_not_required(
    scene: Scene, caplog: pytest.LogCaptureFixture
) -> None:
    lenient = Registry(scene.store, scene.registry.keys, Policy(require_signature=False))
    version = tampering.unsigned(scene)
    assert lenient.fetch("alpha", version)[1] == COMPACT_FILE
    assert lenient.fetch("alpha", version)[1] == COMPACT_FILE
    warned = [r for r in caplog.records if "unverified" in r.getMessage()]
    assert len(warned) == 1
    with pytest.raises(ModelRejected, match="does not verify"):
        lenient.fetch("alpha", tampering.edited_statement(scene))  # a bad signature, still
    manifest, files = scene.pickle_only
    pickled = Scene(
        lenient, "alpha", scene.good, (manifest, files), scene.pickle_only, scene.scratch
    )
    with pytest.raises(ModelRejected, match="no compact form"):
        lenient.fetch("alpha", tampering.unsigned(pickled))  # never a pickle


def test_a_signed_skops_form_is_served_where_a_stage_opts_in(
    store: LocalStore, portable_artifacts: Artifact
) -> None:
    registry = Registry(store, policy=Policy(serve_any_estimator=True))
    version = registry.publish("alpha", *portable_artifacts)
    manifest, name, data = registry.fetch("alpha", version)
    assert name == PORTABLE_FILE
    model = LoadedModel.from_artifact("alpha", version, manifest, name, data)
    estimator = pickle.loads(portable_artifacts[1][MODEL_FILE])  # the test's own fixture
    X = np.random.default_rng(0).normal(size=(50, estimator.n_features_in_))
    np.testing.assert_array_equal(model.estimator.predict_proba(X), estimator.predict_proba(X))
    with pytest.raises(ModelRejected, match="no compact form"):
        Registry(store, policy=Policy()).fetch("alpha", version)


def test_the_opt_in_never_serves_a_pickle_or_an_unsigned_skops_form(
    scene: Scene, portable_artifacts: Artifact
) -> None:
    any_estimator = Registry(scene.store, scene.registry.keys, Policy(False, True))
    version = any_estimator.publish("alpha", *scene.pickle_only)
    with pytest.raises(ModelRejected, match="only a signed skops form"):
        any_estimator.fetch("alpha", version)
    unsigned = Scene(
        any_estimator, "alpha", scene.good, portable_artifacts, scene.pickle_only, scene.scratch
    )
    with pytest.raises(ModelRejected, match="only a signed skops form"):
        any_estimator.fetch("alpha", tampering.unsigned(unsigned))


def test_untrusted_types_in_a_skops_form_are_refused(model_artifacts: Artifacts) -> None:
    import skops.io
    from sklearn.pipeline import make_pipeline

    manifest, files = model_artifacts[0]
    data = skops.io.dumps(make_pipeline(Sneaky(), pickle.loads(files[MODEL_FILE])))
    portable = manifest.with_portable(data).model_copy(update={"compact": None})
    with pytest.raises(ModelRejected, match=r"untrusted types: tests\.unit\.test_signing\.Sneaky"):
        LoadedModel.from_artifact("alpha", "v1", portable, PORTABLE_FILE, data)


class Sneaky:
    """A type no one trusts."""

    def fit(self, X: Any, y: Any = None) -> Sneaky:
        return self

    def transform(self, X: Any) -> Any:
        return X


unpickled: list[str] = []


class Boom:
    """Unpickling it would record that it happened."""

    def __reduce__(self) -> tuple[Any, ...]:
        return (unpickled.append, ("boom",))


def test_the_compact_form_is_read_without_unpickling(model_artifacts: Artifacts) -> None:
    manifest, files = model_artifacts[0]
    forest = CompiledForest.from_bytes(files[COMPACT_FILE])
    buffer = io.BytesIO()
    arrays = {k: getattr(forest, k) for k in ("baseline", "feature", "threshold", "nan_left")}
    np.savez(buffer, format=np.array(1), classes=np.array([Boom()], dtype=object), **arrays)
    with pytest.raises(IntegrityError, match=r"cannot load model\.forest\.npz"):
        LoadedModel.from_artifact("alpha", "v1", manifest, COMPACT_FILE, buffer.getvalue())
    assert unpickled == []


def test_kms_signs_a_statement_within_its_message_limit() -> None:
    signer = KmsKeys({"alpha": "arn:aws:kms:eu-west-1:123456789012:key/k"}).signer("alpha")
    with pytest.raises(ValueError, match="KMS signs at most 4096"):
        signer.sign(b"x" * 4097)
    assert ecdsa.pem(b"\x00" * 48).count(b"\n") == 3  # 64 base64 characters a line
