"""What a bank's compliance team asks of train and evaluate, as a user runs them: profile
fields left out of the model, eligibility rules in the manifest, the fairness section, two
models side by side and the model card."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bankreco.domain.manifest import CARD_FILE, read_model_dir
from tests.cli.conftest import Run, bankreco

pytestmark = pytest.mark.xdist_group("data_commands")  # one worker builds the shared files


def one_error_line(run: Run, command: str) -> str:
    """The single stderr line of a failed run, without its `bankreco <command>: error: `."""
    assert run.code == 2, (run.out, run.err)
    assert len(run.err_lines) == 1, run.err
    prefix = f"bankreco {command}: error: "
    assert run.err_lines[0].startswith(prefix), run.err
    return run.err_lines[0].removeprefix(prefix)


@pytest.fixture(scope="module")
def model_with_sex(data_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model that reads every profile field: --exclude-features without a field."""
    out = tmp_path_factory.mktemp("with_sex") / "with-sex"
    run = bankreco("train", "--data", data_file, "--out", out, "--exclude-features", "--quiet")
    assert run.code == 0, run.err
    assert "excluded features" not in run.out
    assert "MAP@7 without the rules santander-default (5): 0.0" in run.out
    return out


def test_a_field_that_is_not_a_profile_field_is_named(data_file: Path, tmp_path: Path) -> None:
    run = bankreco(
        "train", "--data", data_file, "--out", tmp_path / "m", "--exclude-features", "sexo", "nope"
    )
    message = one_error_line(run, "train")
    assert message.startswith("cannot exclude 'nope': not a profile field (sexo, age, ")
    assert list(tmp_path.iterdir()) == []  # refused before any work


def test_a_bad_rules_file_is_named(data_file: Path, tmp_path: Path) -> None:
    rules = tmp_path / "rules.json"
    rules.write_text('{"rules": [{"product": "ind_nope", "field": "age", "operator": "<", '
                     '"value": 18}]}')  # fmt: skip
    run = bankreco("train", "--data", data_file, "--out", tmp_path / "m", "--rules", rules)
    message = one_error_line(run, "train")
    assert message.startswith(f"{rules}: rules.0")
    assert "'ind_nope' is not a product code" in message
    both = bankreco("train", "--data", data_file, "--out", tmp_path / "m", "--rules", rules,
                    "--no-rules")  # fmt: skip
    assert both.code == 2
    assert both.err_lines[-1].endswith("argument --no-rules: not allowed with argument --rules")


def test_train_excludes_sex_by_default_and_records_the_rules_and_the_card(
    model_dir: Path,
) -> None:
    manifest, files = read_model_dir(model_dir)
    assert manifest.excluded_features == ["sexo"]
    assert manifest.rules is not None
    assert len(manifest.rules.rules) == 5
    assert manifest.card is not None
    assert CARD_FILE in manifest.files
    card = files[CARD_FILE].decode()
    assert "- Excluded profile fields: `sexo`" in card
    assert f"MAP@7: {manifest.metrics['map_at_7']:.5f} with the eligibility rules" in card


def test_train_without_rules(data_file: Path, tmp_path: Path) -> None:
    run = bankreco("train", "--data", data_file, "--out", tmp_path / "m", "--no-rules", "--quiet")
    assert run.code == 0, run.err
    assert "MAP@7 without the rules" not in run.out
    assert run.out.splitlines()[-2:] == [
        "no eligibility rules: every product may be offered to every customer",
        "excluded features: sexo (serving ignores them)",
    ]
    manifest, _ = read_model_dir(tmp_path / "m")
    assert manifest.rules is None
    assert manifest.metrics["map_at_7"] == manifest.metrics["map_at_7_without_rules"]


def test_evaluate_compares_two_models_in_json_and_in_the_report(
    data_file: Path, model_dir: Path, model_with_sex: Path
) -> None:
    run = bankreco(
        "evaluate", "--data", data_file, "--model", model_dir, "--compare", model_with_sex,
        "--json",
    )  # fmt: skip
    assert run.code == 0, run.err
    result = json.loads(run.out)
    assert {"excluded_features", "rules", "fairness", "compared"} <= set(result)
    assert result["excluded_features"] == ["sexo"]
    assert result["rules"]["name"] == "santander-default"
    assert result["rules"]["map_at_7"]["with_rules"] == result["map_at_7"]["model"]
    assert result["rules"]["map_at_7"]["without_rules"] > 0
    assert set(result["fairness"]["attributes"]) == {"sexo", "age_band", "segmento"}
    sex = result["fairness"]["attributes"]["sexo"]
    assert set(sex["groups"]) >= {"H", "V"}
    assert 0 < sex["ratio"]["map_at_7"] <= 1
    compared = result["compared"]
    assert compared["model"] == "with-sex"
    assert compared["excluded_features"] == []
    assert compared["map_at_7"] > 0
    assert set(compared["fairness"]["attributes"]) == {"sexo", "age_band", "segmento"}
    report = (model_dir / "report" / "report.md").read_text()
    for heading in ("## Eligibility rules", "## Fairness", "## Compared with with-sex"):
        assert heading in report
    assert "| by sex | H | V | ratio |" in report
    assert "| fields excluded | sexo | none | |" in report


def test_evaluate_prints_the_rules_and_the_disparities(
    data_file: Path, model_dir: Path, model_with_sex: Path
) -> None:
    run = bankreco(
        "evaluate", "--data", data_file, "--model", model_with_sex, "--compare", model_dir,
        "--quiet",
    )  # fmt: skip
    assert run.code == 0, run.err
    lines = run.out.splitlines()
    assert any(line.startswith("rules santander-default (5): MAP@7 0.0") for line in lines)
    assert any(
        line.startswith("MAP@7 disparity ratios (lowest group / highest): sex ") for line in lines
    )
    assert any(
        line.startswith(f"compared with {model_dir.name} (excluded: sexo)") for line in lines
    )
    assert lines[-1].startswith("report: ")


def test_a_missing_model_to_compare_is_named(
    data_file: Path, model_dir: Path, tmp_path: Path
) -> None:
    missing = tmp_path / "nope"
    run = bankreco("evaluate", "--data", data_file, "--model", model_dir, "--compare", missing)
    assert one_error_line(run, "evaluate") == f"{missing}: no such model directory"


def test_help_describes_the_new_options() -> None:
    train = " ".join(bankreco("train", "--help").out.split())
    phrases = ("--exclude-features [FIELD ...]", "Serving still accepts them", "default: sexo",
               "--rules FILE", "--no-rules", "the Santander rules")  # fmt: skip
    for phrase in phrases:
        assert phrase in train, phrase
    evaluate = " ".join(bankreco("evaluate", "--help").out.split())
    assert "--compare DIR" in evaluate
    assert "side by side" in evaluate
