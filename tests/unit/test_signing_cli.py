"""`bankreco publish`, `verify` and `keys` on a local store with local keys."""

from __future__ import annotations

from pathlib import Path

import pytest

from bankreco.cli import main
from bankreco.domain.manifest import MANIFEST_FILE, PORTABLE_FILE, Manifest
from bankreco.signing.statement import SIGNATURE_FILE
from tests.support.model_dirs import model_dir

Artifact = tuple[Manifest, dict[str, bytes]]


def publish(tmp_path: Path, artifacts: Artifact, capsys: pytest.CaptureFixture[str]) -> str:
    args = ["publish", str(model_dir(tmp_path / "model", artifacts)), "--bank", "alpha"]
    assert main([*args, "--store", str(tmp_path / "store")]) == 0
    return capsys.readouterr().out.strip()


def test_verify_prints_what_it_checked(
    tmp_path: Path, model_artifacts: list[Artifact], capsys: pytest.CaptureFixture[str]
) -> None:
    version = publish(tmp_path, model_artifacts[0], capsys)
    store = str(tmp_path / "store")
    assert main(["verify", "--bank", "alpha", "--version", version, "--store", store]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"verified alpha/{version}: signed by local:")
    assert [line.split()[0] for line in lines[2:]] == [
        "manifest.json",
        "model.forest.npz",
        "model.pkl",
    ]


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        (SIGNATURE_FILE, None, "it is not signed"),
        (MANIFEST_FILE, b"{}", "manifest.json does not match its signature"),
        ("model.pkl", b"x", "model.pkl checksum mismatch"),
    ],
)
def test_verify_says_what_failed_in_one_line(
    tmp_path: Path,
    model_artifacts: list[Artifact],
    capsys: pytest.CaptureFixture[str],
    name: str,
    content: bytes | None,
    reason: str,
) -> None:
    version = publish(tmp_path, model_artifacts[0], capsys)
    path = tmp_path / "store" / "alpha" / "versions" / version / name
    if content is None:
        path.unlink()
    else:
        path.write_bytes(content)
    store = str(tmp_path / "store")
    assert main(["verify", "--bank", "alpha", "--version", version, "--store", store]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert len(err.splitlines()) == 1
    assert err.startswith(f"bankreco verify: error: alpha/{version}")
    assert reason in err


def test_a_model_without_compact_form_is_published_with_its_skops_form(
    tmp_path: Path, pickle_only_artifacts: Artifact, capsys: pytest.CaptureFixture[str]
) -> None:
    version = publish(tmp_path, pickle_only_artifacts, capsys)
    stored = tmp_path / "store" / "alpha" / "versions" / version
    manifest = Manifest.model_validate_json((stored / MANIFEST_FILE).read_text())
    assert manifest.portable is not None
    assert manifest.compact is None
    assert (stored / PORTABLE_FILE).stat().st_size == manifest.portable.bytes


def test_keys_init_and_show(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SIGNING_KEYS_DIR", str(tmp_path / "keys"))
    assert main(["keys", "init", "--bank", "gamma"]) == 0
    assert capsys.readouterr().out.endswith("public.pem: created\n")
    assert main(["keys", "init", "--bank", "gamma"]) == 0
    assert capsys.readouterr().out.endswith("public.pem: already there\n")
    assert main(["keys", "show", "--bank", "gamma"]) == 0
    assert capsys.readouterr().out == (tmp_path / "keys/gamma/public.pem").read_text()
    assert main(["keys", "show", "--bank", "delta"]) == 2
    assert "no key for bank delta" in capsys.readouterr().err
