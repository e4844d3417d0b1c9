"""generate, train and evaluate as a user runs them: the installed command in a subprocess,
its stdout, its stderr and its exit code."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import numpy as np
import pytest

from bankreco.catalog import PRODUCT_CODES
from tests.cli.conftest import CopyWithout, Run, bankreco

pytestmark = pytest.mark.xdist_group("data_commands")  # one worker builds the shared files

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00\x00\x00\x01\x00\x08\x02"


def one_error_line(run: Run, command: str) -> str:
    """The single stderr line of a failed run, without its `bankreco <command>: error: `."""
    assert run.code == 2, (run.out, run.err)
    assert "Traceback" not in run.err
    assert len(run.err_lines) == 1, run.err
    prefix = f"bankreco {command}: error: "
    assert run.err_lines[0].startswith(prefix), run.err
    return run.err_lines[0].removeprefix(prefix)


def argparse_error(run: Run, command: str) -> str:
    """The error line argparse prints under the usage of a refused argument."""
    assert run.code == 2, (run.out, run.err)
    assert "Traceback" not in run.err
    assert run.err_lines[0].startswith(f"usage: bankreco {command}")
    prefix = f"bankreco {command}: error: "
    assert run.err_lines[-1].startswith(prefix), run.err
    return run.err_lines[-1].removeprefix(prefix)


def bar_percentages(err: str, label: str) -> list[int]:
    """The percentages a tqdm bar labelled `label` showed, in order."""
    return [int(p) for p in re.findall(rf"(?:^|[\r\n]){re.escape(label)}:\s+(\d+)%", err)]


# 1. Progress that moves with the bytes read.


def test_train_progress_bars_move_with_the_bytes_read(data_file: Path, tmp_path: Path) -> None:
    run = bankreco(
        "train", "--data", data_file, "--out", tmp_path / "model",
        env={"TQDM_MININTERVAL": "0"},  # draw every update, however fast the read
    )  # fmt: skip
    assert run.code == 0, run.err
    for label in (f"{data_file.name} (months)", data_file.name):
        shown = bar_percentages(run.err, label)
        assert shown[0] == 0, label
        assert shown[-1] == 100, label
        assert len([p for p in shown if 0 < p < 100]) >= 3, (label, shown)
        assert shown == sorted(shown), label


def test_evaluate_progress_bar_moves(data_file: Path, model_dir: Path) -> None:
    run = bankreco(
        "evaluate", "--data", data_file, "--model", model_dir, env={"TQDM_MININTERVAL": "0"}
    )
    assert run.code == 0, run.err
    shown = bar_percentages(run.err, data_file.name)
    assert shown[-1] == 100
    assert any(0 < p < 100 for p in shown), shown


# 2. Files missing a profile or a product column.


def test_training_without_renta_warns_once_and_trains(
    copy_without: CopyWithout, tmp_path: Path
) -> None:
    data = copy_without(tmp_path / "no_renta.csv", ("renta",))
    run = bankreco("train", "--data", data, "--out", tmp_path / "model", "--quiet")
    assert run.code == 0, run.err
    assert run.err_lines == [
        f"bankreco train: warning: {data} has no renta column: its values are read as missing"
    ]
    assert re.search(r"^MAP@7 on 2016-05-28: 0\.0\d+$", run.out, re.MULTILINE), run.out
    manifest = json.loads((tmp_path / "model" / "manifest.json").read_text())
    assert manifest["training"]["columns_missing"] == ["renta"]
    evaluated = bankreco("evaluate", "--data", data, "--model", tmp_path / "model", "--json")
    assert evaluated.code == 0, evaluated.err
    assert evaluated.err_lines == [
        f"bankreco evaluate: warning: {data} has no renta column: its values are read as missing"
    ]
    assert json.loads(evaluated.out)["map_at_7"]["model"] > 0


def test_training_without_a_product_column_reads_it_as_never_held(
    copy_without: CopyWithout, tmp_path: Path
) -> None:
    data = copy_without(tmp_path / "no_viv.csv", ("ind_viv_fin_ult1", "ind_ahor_fin_ult1"))
    run = bankreco("train", "--data", data, "--out", tmp_path / "model", "--quiet")
    assert run.code == 0, run.err
    assert run.err_lines == [
        f"bankreco train: warning: {data} has no ind_ahor_fin_ult1 and ind_viv_fin_ult1 column: "
        "read as never held (never added, so never recommended)"
    ]
    manifest = json.loads((tmp_path / "model" / "manifest.json").read_text())
    assert manifest["training"]["addition_counts"]["ind_viv_fin_ult1"] == 0


def test_a_file_without_product_columns_is_refused(
    copy_without: CopyWithout, tmp_path: Path
) -> None:
    data = copy_without(tmp_path / "test_ver2.csv", PRODUCT_CODES)
    message = one_error_line(bankreco("train", "--data", data, "--out", tmp_path / "m"), "train")
    assert message == (
        f"{data} has no product columns (ind_ahor_fin_ult1 .. ind_recibo_ult1): a file without "
        "holdings, such as test_ver2.csv, cannot train or evaluate a model"
    )
    assert not (tmp_path / "m").exists()


# 3. Help and the arguments' checks.


@pytest.mark.parametrize(
    ("command", "phrases"),
    [
        (
            "generate",
            [
                "--out FILE", "the CSV file to write", "--customers N", "customers to simulate",
                "--seed N", "same bytes", "--bank-profile {santander,digital,traditional}",
                "--report", "fidelity report", "--quiet", "no progress bar",
            ],
        ),
        (
            "train",
            [
                "--data FILE", "train_ver2.csv format", "--out DIR", "model.pkl",
                "--months MONTH", "2016-04-28", "--all-months", "no month is held out",
                "--max-iter N", "boosting rounds", "--threads N", "OpenMP threads",
                "--seed N", "--quiet",
            ],
        ),
        (
            "evaluate",
            ["--data FILE", "--model DIR", "written by train", "--json", "one JSON object"],
        ),
    ],
)  # fmt: skip
def test_help_explains_every_option(command: str, phrases: list[str]) -> None:
    run = bankreco(command, "--help")
    assert run.code == 0
    assert run.err == ""
    text = " ".join(run.out.split())  # argparse wraps lines where it likes
    for phrase in phrases:
        assert phrase in text, phrase
    options = re.findall(r"^  (--[a-z-]+)", run.out, re.MULTILINE)
    assert options, run.out
    for option in options:  # every option's line has a description after its name
        described = rf"^  {option}\b[^\n]*?(?: {{2,}}\S|\n {{20,}}\S)"
        assert re.search(described, run.out, re.MULTILINE), option


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["generate", "--customers", "0"], "argument --customers: must be at least 1, got 0"),
        (["generate", "--customers", "many"], "argument --customers: expected a whole number, "
         "got 'many'"),
        (["generate", "--customers", "5", "--seed", "-1"], "argument --seed: must be 0 or more, "
         "got -1"),
        (["generate", "--customers", "5", "--bank-profile", "online"], "argument --bank-profile: "
         "invalid choice: 'online' (choose from 'santander', 'digital', 'traditional')"),
        (["train", "--threads", "0"], "argument --threads: must be at least 1, got 0"),
        (["train", "--max-iter", "0"], "argument --max-iter: must be at least 1, got 0"),
        (["train", "--months", "2016-13"], "argument --months: '2016-13' is not a month: write "
         "it as 2016-05, 2016-05-28 or 'May 2016'"),
    ],
)  # fmt: skip
def test_bad_arguments_are_named(args: list[str], message: str, tmp_path: Path) -> None:
    command = args[0]
    required = ["--out", tmp_path / "out.csv"] if command == "generate" else []
    if command == "train":
        required = ["--data", tmp_path / "d.csv", "--out", tmp_path / "m"]
    assert argparse_error(bankreco(*args, *required), command) == message
    assert list(tmp_path.iterdir()) == []


def test_months_are_read_as_people_write_them(data_file: Path, tmp_path: Path) -> None:
    run = bankreco(
        "train", "--data", data_file, "--out", tmp_path / "m", "--quiet",
        "--months", "2016-04", "Mar 2016", "2016/02/28", "2015-06-28",
    )  # fmt: skip
    assert run.code == 0, run.err
    assert run.out.splitlines()[0] == (
        f"trained HistGradientBoostingClassifier on 2015-06, 2016-02, 2016-03, 2016-04 -> "
        f"{tmp_path / 'm'}"
    )


@pytest.mark.parametrize(
    ("month", "message"),
    [
        ("2017-04", "month 2017-04 is not in {data}, which has 2015-01 .. 2016-05"),
        ("2015-01", "month 2015-01 cannot be learned: {data} lacks the month before it "
         "(2014-12), so its additions are unknown"),
        ("May 2016", "2016-05 is the evaluation month (the file's last); train on it only with "
         "--all-months"),
    ],
)  # fmt: skip
def test_months_the_file_cannot_train_on_are_named(
    data_file: Path, tmp_path: Path, month: str, message: str
) -> None:
    run = bankreco(
        "train", "--data", data_file, "--out", tmp_path / "m", "--months", month, "--quiet"
    )
    assert one_error_line(run, "train") == message.format(data=data_file)


def test_all_months_trains_on_the_last_month_and_reports_no_holdout(
    data_file: Path, tmp_path: Path
) -> None:
    run = bankreco("train", "--data", data_file, "--out", tmp_path / "m", "--all-months", "--quiet")
    assert run.code == 0, run.err
    first, second = run.out.splitlines()
    assert first.startswith("trained HistGradientBoostingClassifier on 2015-02, ")
    assert first.endswith(f"2016-04, 2016-05 -> {tmp_path / 'm'}")
    assert second == "no MAP@7 on the file's last month: every month was trained on"


# 4. Every failure is one line naming what failed.


def test_a_missing_data_file_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "nope.csv"
    run = bankreco("train", "--data", missing, "--out", tmp_path / "m", "--quiet")
    assert one_error_line(run, "train") == f"{missing}: no such file"
    run = bankreco("evaluate", "--data", missing, "--model", tmp_path, "--quiet")
    assert (
        one_error_line(run, "evaluate") == f"{tmp_path} has no manifest.json: it is not a "
        "model directory written by bankreco train"
    )  # the model is checked first


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.csv", b"", "{path} is empty: expected a CSV with a header row"),
        ("chart.png", PNG, "{path} is not in the train_ver2.csv format: its header lacks "
         "fecha_dato, ncodpers; its first line starts '\ufffdPNG'"),
        ("profile.json", b'{"sexo": "H", "age": 35}\n', "{path} is not in the train_ver2.csv "
         "format: its header lacks fecha_dato, ncodpers; its first line starts "
         "'{{\"sexo\": \"H\", \"age\": 35}}'"),
        ("header.csv", None, "{path} has no data rows after its header"),
        ("directory", None, "{path} is a directory, not a CSV file"),
    ],
)  # fmt: skip
def test_unusable_data_files_are_named_in_one_line(
    data_file: Path,
    model_dir: Path,
    tmp_path: Path,
    name: str,
    content: bytes | None,
    message: str,
) -> None:
    path = tmp_path / name
    if name == "directory":
        path.mkdir()
    elif content is None:
        path.write_text(data_file.read_text().splitlines()[0] + "\n")
    else:
        path.write_bytes(content)
    train = bankreco("train", "--data", path, "--out", tmp_path / "m", "--quiet")
    assert one_error_line(train, "train") == message.format(path=path)
    evaluate = bankreco("evaluate", "--data", path, "--model", model_dir, "--quiet")
    assert one_error_line(evaluate, "evaluate") == message.format(path=path)
    assert not (tmp_path / "m").exists()


@pytest.fixture
def read_only_dir(tmp_path: Path) -> Path:
    """A directory the command cannot write into (a system one where root writes anywhere)."""
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    if not os.access(locked, os.W_OK):
        return locked
    system = Path("/proc/sys")
    if system.is_dir() and not os.access(system, os.W_OK):
        return system
    pytest.skip("no directory this user cannot write into")


def test_an_out_dir_that_cannot_be_written_fails_before_reading(
    data_file: Path, tmp_path: Path, read_only_dir: Path
) -> None:
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    run = bankreco("train", "--data", data_file, "--out", a_file / "model")
    assert (
        one_error_line(run, "train") == f"cannot write the model to {a_file / 'model'}: "
        f"{a_file} is a file"
    )
    run = bankreco("train", "--data", data_file, "--out", read_only_dir / "model")
    assert (
        one_error_line(run, "train") == f"cannot write the model to "
        f"{read_only_dir / 'model'}: {read_only_dir} is not writable"
    )
    run = bankreco("generate", "--out", a_file / "train.csv", "--customers", "5")
    assert (
        one_error_line(run, "generate") == f"cannot write the generated file to {a_file}: "
        f"{a_file} is a file"
    )
    run = bankreco("generate", "--out", tmp_path, "--customers", "5")
    assert (
        one_error_line(run, "generate") == f"{tmp_path} is a directory: --out names the "
        "CSV file to write"
    )


def test_evaluate_names_a_model_dir_that_is_not_one(data_file: Path, tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    run = bankreco("evaluate", "--data", data_file, "--model", missing)
    assert one_error_line(run, "evaluate") == f"{missing}: no such model directory"
    run = bankreco("evaluate", "--data", data_file, "--model", tmp_path)
    assert one_error_line(run, "evaluate") == (
        f"{tmp_path} has no manifest.json: it is not a model directory written by bankreco train"
    )
    (tmp_path / "manifest.json").write_text("{}")
    (tmp_path / "model.pkl").write_bytes(b"")
    run = bankreco("evaluate", "--data", data_file, "--model", tmp_path)
    assert one_error_line(run, "evaluate").startswith(
        f"{tmp_path / 'manifest.json'} is not a model manifest: "
    )


# 5. The report's pictures.


def test_evaluate_writes_a_report_with_small_pictures(data_file: Path, model_dir: Path) -> None:
    run = bankreco("evaluate", "--data", data_file, "--model", model_dir, "--quiet")
    assert run.code == 0, run.err
    assert run.err == ""  # --quiet: no progress bars
    assert run.out.splitlines()[0].startswith("MAP@7 on 2016-05-28 (")
    assert run.out.splitlines()[-1] == f"report: {model_dir / 'report' / 'report.md'}"
    report = model_dir / "report"
    text = (report / "report.md").read_text()
    for picture in ("map_at_7.png", "per_product.png", "calibration.png"):
        assert f"]({picture})" in text
        assert (report / picture).read_bytes()[:8] == PNG[:8]
        assert 10_000 < (report / picture).stat().st_size < 150_000, picture


# In-process checks of the functions the commands call.


def test_fill_sparse_columns_sets_columns_with_too_few_values_to_a_constant() -> None:
    from bankreco.training.train import MIN_LEAF, fill_sparse_columns

    X = np.full((100, 3), np.nan)
    X[:, 0] = np.arange(100)
    X[: MIN_LEAF - 1, 1] = 1.0
    filled = fill_sparse_columns(X)
    assert (filled[:, 0] == np.arange(100)).all()
    assert (filled[:, 1:] == 0).all()
    complete = X[:, :1]
    assert fill_sparse_columns(complete) is complete  # no copy when every column has values


def test_a_model_fits_without_a_feature_and_never_tests_it() -> None:
    from bankreco.training.train import TrainConfig, fit

    rng = np.random.default_rng(0)
    X = rng.random((600, 3))
    X[:, 2] = np.nan  # a profile column the file lacks
    y = np.where(X[:, 0] > 0.5, "ind_recibo_ult1", "ind_cco_fin_ult1")
    model = fit(X, y, TrainConfig(max_iter=5))
    served = X.copy()
    served[:, 2] = rng.random(600) * 1e6  # a request does send it
    np.testing.assert_array_equal(model.predict_proba(served), model.predict_proba(X))


def test_requested_months_map_to_the_files_dates() -> None:
    from bankreco.training.train import requested_months

    available = [f"2016-{m:02d}-28" for m in range(1, 6)]
    assert requested_months("f.csv", ["2016-03", "Feb 2016", "2016-03-28"], available) == [
        "2016-02-28",
        "2016-03-28",
    ]
    with pytest.raises(ValueError, match=r"^month 2016-01 cannot be learned: f\.csv lacks"):
        requested_months("f.csv", ["2016-01"], available)
    with pytest.raises(
        ValueError, match=r"^month 2015-03 is not in f\.csv, which has 2016-01 \.\."
    ):
        requested_months("f.csv", ["2015-03"], available)


def test_month_pair_reads_a_missing_product_as_never_held() -> None:
    import pandas as pd

    from bankreco.catalog import PROFILE_FIELDS
    from bankreco.training.dataset import month_pair

    rows = [
        {"fecha_dato": month, "ncodpers": 1, **dict.fromkeys(PROFILE_FIELDS, np.nan)}
        | {
            code: float(month == "2016-05-28" or code == "ind_cco_fin_ult1")
            for code in PRODUCT_CODES
        }
        for month in ("2016-04-28", "2016-05-28")
    ]
    frame = pd.DataFrame(rows).drop(columns=["ind_viv_fin_ult1"])
    pair = month_pair(frame, "2016-05-28")
    gone = PRODUCT_CODES.index("ind_viv_fin_ult1")
    assert pair.owned_now[0, gone] == 0
    assert not pair.added[0, gone]
    assert pair.added[0].sum() == len(PRODUCT_CODES) - 2  # all but cco (held) and viv (absent)
    with pytest.raises(ValueError, match="no product columns"):
        month_pair(frame.drop(columns=[c for c in PRODUCT_CODES if c in frame]), "2016-05-28")


def test_check_writable_dir_creates_nothing(tmp_path: Path) -> None:
    from bankreco.training.paths import check_writable_dir

    check_writable_dir(tmp_path / "a" / "b" / "model", "the model")
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "f").write_text("x")
    with pytest.raises(ValueError, match=r"cannot write the report to .*f/report: .*f is a file"):
        check_writable_dir(tmp_path / "f" / "report", "the report")


def test_option_types_explain_what_they_refuse() -> None:
    import argparse

    from bankreco.training.options import month, non_negative_int, positive_int

    assert positive_int(" 100_000 ") == 100_000
    assert non_negative_int("0") == 0
    assert month("May 2016") == "2016-05"
    for parse, text, message in [
        (positive_int, "0", "must be at least 1, got 0"),
        (positive_int, "1.5", "expected a whole number, got '1.5'"),
        (non_negative_int, "-2", "must be 0 or more, got -2"),
        (month, "Mayo", "'Mayo' is not a month"),
    ]:
        with pytest.raises(argparse.ArgumentTypeError, match=re.escape(message)):
            parse(text)


def test_warnings_as_lines_prints_one_line_per_warning(
    capsys: pytest.CaptureFixture[str],
) -> None:
    import warnings

    from bankreco.training.options import warnings_as_lines

    with warnings_as_lines("train"):
        warnings.warn("data.csv has no renta column", stacklevel=1)
    assert capsys.readouterr().err == "bankreco train: warning: data.csv has no renta column\n"


def test_calibration_bins_are_a_log_scale_of_the_adders_pairs() -> None:
    from bankreco.training.evaluate import _calibration

    rng = np.random.default_rng(1)
    scores = 10.0 ** rng.uniform(-4, 0, (4000, 24))
    scores[:, 0] = 0.0  # a product never learned
    scores[:, 1] = -1.0  # a product held
    added = rng.random((4000, 24)) < scores
    points = _calibration(added, scores, min_pairs=20)
    assert len(points) == 8
    assert [p["low"] for p in points] == pytest.approx(10.0 ** np.arange(-4, 0, 0.5))
    adders = added.any(axis=1)
    assert sum(p["count"] for p in points) == adders.sum() * 22
    for point in points:
        assert point["low"] <= point["mean_score"] < point["high"]
        assert point["observed_rate"] == pytest.approx(point["mean_score"], rel=0.5, abs=2e-3)


def test_report_of_a_month_without_additions(tmp_path: Path) -> None:
    from bankreco.training.evaluate import Evaluation, _per_product
    from bankreco.training.report import write_report

    nothing = np.zeros((50, 24), dtype=bool)
    evaluation = Evaluation(
        month="2016-05-28",
        customers=50,
        map_at_7={"model": 0.0, "popularity": 0.0, "perfect": 0.0},
        per_product=_per_product(nothing, np.full((50, 24), 0.1)),
        calibration=[],
    )
    report = write_report(evaluation, tmp_path)
    assert report.read_text().startswith("# Evaluation on 2016-05 (50 customers)")
    for name in ("map_at_7.png", "per_product.png", "calibration.png"):
        assert (tmp_path / "report" / name).stat().st_size > 0
