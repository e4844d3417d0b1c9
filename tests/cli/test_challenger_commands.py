"""`bankreco publish --challenger`, `promote`, `versions` and `rollback` on a local store: the
lifecycle of a challenger run as a user runs it, and each refusal as one line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bankreco.cli import main
from bankreco.domain.manifest import MANIFEST_FILE, Manifest
from bankreco.eligibility import default_rules
from tests.cli.conftest import Run, bankreco
from tests.support.model_dirs import model_dir

Artifact = tuple[Manifest, dict[str, bytes]]


@pytest.fixture
def models(tmp_path: Path, model_artifacts: list[Artifact]) -> list[Path]:
    return [model_dir(tmp_path / f"model-{n}", a) for n, a in enumerate(model_artifacts)]


def run(store: Path, *args: str | Path) -> Run:
    done = bankreco(*args, "--store", store)
    assert done.code == 0, done.err
    return done


def listed(store: Path) -> list[tuple[str, bool, bool, float]]:
    rows: list[dict[str, Any]] = json.loads(run(store, "versions", "--bank", "alpha", "--json").out)
    return [(r["version"], r["current"], r["challenger"], r["traffic"]) for r in rows]


def test_a_challenger_from_publish_to_promotion_and_rollback(
    tmp_path: Path, models: list[Path]
) -> None:
    store = tmp_path / "store"
    first = run(store, "publish", models[0], "--bank", "alpha").out.strip()
    published = run(store, "publish", models[1], "--bank", "alpha", "--challenger", "10")
    second = published.out.strip()
    assert published.err_lines[-1].endswith("the challenger for 10% of customers")
    assert listed(store) == [(first, True, False, 90.0), (second, False, True, 10.0)]
    table = run(store, "versions", "--bank", "alpha")
    rows = table.out.splitlines()
    assert rows[0].split() == ["version", "created", "(UTC)", "MAP@7", "size", "traffic"]
    assert rows[1].startswith(f"* {first}")
    assert rows[1].endswith(" 90%")
    assert rows[2].startswith(f"+ {second}")
    assert rows[2].endswith(" 10%")
    assert "* the champion, + the challenger" in table.err

    changed = run(store, "promote", "--bank", "alpha", "--share", "2.5").out
    assert changed == (
        f"alpha: challenger {second} now answers 2.5% of customers, champion {first} the rest\n"
    )
    assert [row[3] for row in listed(store)] == [97.5, 2.5]
    promoted = run(store, "promote", "--bank", "alpha").out
    assert promoted == f"alpha now serves {second} as its champion, to every customer\n"
    assert listed(store) == [(first, False, False, 0.0), (second, True, False, 100.0)]
    again = bankreco("promote", "--bank", "alpha", "--store", store)
    assert again.code == 2
    assert again.err_lines == [
        f"bankreco promote: error: bank 'alpha' has no challenger in {store} "
        "(bankreco publish --challenger SHARE names one)"
    ]

    # The first model again, as challenger: its version is reused, not uploaded again.
    reused = run(store, "publish", models[0], "--bank", "alpha", "--challenger", "20")
    assert reused.out.strip() == first
    assert "it is now the challenger for 20% of customers" in reused.err
    assert listed(store) == [(first, False, True, 20.0), (second, True, False, 80.0)]
    rolled = run(store, "rollback", "--bank", "alpha", "--to", second).out
    assert rolled == f"alpha now serves {second} to every customer; challenger {first} dropped\n"
    assert listed(store) == [(first, False, False, 0.0), (second, True, False, 100.0)]


@pytest.mark.parametrize("share", ["0", "100", "-3", "nan"])
def test_a_share_out_of_range_is_refused_before_anything_is_published(
    tmp_path: Path, models: list[Path], capsys: pytest.CaptureFixture[str], share: str
) -> None:
    store = str(tmp_path / "store")
    assert main(["publish", str(models[0]), "--bank", "alpha", "--store", store]) == 0
    capsys.readouterr()
    args = ["publish", str(models[1]), "--bank", "alpha", "--store", store]
    assert main([*args, "--challenger", share]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1
    assert err[0].startswith("bankreco publish: error: a challenger's share is a percent above 0")
    assert main(["promote", "--bank", "alpha", "--share", share, "--store", store]) == 2
    assert "has no challenger" in capsys.readouterr().err
    assert len(list((tmp_path / "store" / "alpha" / "versions").iterdir())) == 1


def test_a_challenger_needs_a_champion_other_than_itself(
    tmp_path: Path, models: list[Path], capsys: pytest.CaptureFixture[str]
) -> None:
    store = str(tmp_path / "store")
    as_challenger = ["publish", str(models[0]), "--bank", "alpha", "--challenger", "10"]
    assert main([*as_challenger, "--store", store]) == 2
    assert "has no champion for a challenger to challenge" in capsys.readouterr().err
    assert not (tmp_path / "store" / "alpha" / "versions").exists()
    assert main(["publish", str(models[0]), "--bank", "alpha", "--store", store]) == 0
    champion = capsys.readouterr().out.strip()
    assert main([*as_challenger, "--store", store]) == 2
    assert f"serves this model as its champion, {champion}" in capsys.readouterr().err
    assert main([*as_challenger, "--store", store, "--force"]) == 0  # a new version of it
    challenger = capsys.readouterr().out.strip()
    assert challenger != champion
    assert main(["promote", "--bank", "alpha", "--share", "100", "--store", store]) == 2
    assert "above 0 and below 100, not 100.0" in capsys.readouterr().err


def test_publishing_a_model_whose_rules_were_edited_wrong_names_the_rule(
    tmp_path: Path, model_artifacts: list[Artifact]
) -> None:
    manifest, files = model_artifacts[0]
    ruled = manifest.model_copy(update={"rules": default_rules()})
    directory = model_dir(tmp_path / "model", (ruled, files))
    document = json.loads((directory / MANIFEST_FILE).read_text())
    document["rules"]["rules"][0]["value"] = "eighteen"
    (directory / MANIFEST_FILE).write_text(json.dumps(document))
    done = bankreco("publish", directory, "--bank", "demo", "--store", tmp_path / "models")
    assert done.code == 2
    assert done.err_lines == [
        f"bankreco publish: error: {directory / MANIFEST_FILE}: rules.rules.0.value: "
        "field 'age' is numeric: \"eighteen\" is not a number"
    ]
    assert not (tmp_path / "models" / "demo").exists()  # nothing published
