"""What the data commands (generate, train, evaluate) share on the command line: argument
types that check values as argparse parses them, and warnings shown as one line each."""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from bankreco.training.train import TrainConfig


def whole_number(text: str, least: int) -> int:
    """`text` as a whole number of at least `least` (`_` separators allowed); an argparse
    error saying what is wrong otherwise."""
    try:
        value = int(text.strip().replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < least:
        wanted = "must be 0 or more" if least == 0 else f"must be at least {least}"
        raise argparse.ArgumentTypeError(f"{wanted}, got {value}")
    return value


def positive_int(text: str) -> int:
    """A whole number of at least 1, for --customers, --max-iter and --threads."""
    return whole_number(text, 1)


def month(text: str) -> str:
    """A month as people write it (2016-05, 2016-05-28, 2016/05, May 2016), as ``YYYY-MM``."""
    from bankreco.data.reader import month_key  # pandas loads only when a month is given

    try:
        return month_key(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


@contextmanager
def warnings_as_lines(command: str) -> Iterator[None]:
    """Show each warning raised inside as one line, ``bankreco <command>: warning: ...``, on
    stderr, instead of Python's file name, line number and source line. Progress bars on screen
    are redrawn below it."""
    from tqdm import tqdm

    def show(
        message: Warning | str,
        category: type[Warning],
        filename: str,
        lineno: int,
        file: TextIO | None = None,
        line: str | None = None,
    ) -> None:
        tqdm.write(f"bankreco {command}: warning: {message}", file=sys.stderr)

    with warnings.catch_warnings():
        warnings.showwarning = show
        yield


def non_negative_int(text: str) -> int:
    """A whole number of at least 0, for --seed."""
    return whole_number(text, 0)


GENERATE = (
    "Simulate a bank's customers over 17 monthly snapshots (2015-01-28 to 2016-05-28) and write "
    "them in the Kaggle train_ver2.csv format, with the true add-probabilities of the last month "
    "beside the file (FILE's name with .oracle.csv)."
)
TRAIN = (
    "Learn which product each customer adds next month from the profile and last month's "
    "products. By default it trains on June 2015 and the four months before the file's last, "
    "and reports MAP@7 on the last month, which it does not train on."
)
EVALUATE = (
    "Score the model, the most-popular list, the demographics-only model and, for a generated "
    "file, the oracle on the file's last month (MAP@7), and write a report with plots into "
    "DIR/report/."
)
_DATA_HELP = "the bank's snapshots in the train_ver2.csv format (.csv, .gz, .zip, .bz2, .xz, .zst)"


def add_generate_options(parser: argparse.ArgumentParser) -> None:
    """The options of `bankreco generate`."""
    from bankreco.data.parameters import BANK_PROFILES

    parser.add_argument("--out", required=True, metavar="FILE", help="the CSV file to write")
    parser.add_argument(
        "--customers",
        type=positive_int,
        required=True,
        metavar="N",
        help="customers to simulate (each makes about 14 rows, 2.2 kB of the file)",
    )
    parser.add_argument(
        "--seed",
        type=non_negative_int,
        default=0,
        metavar="N",
        help="random seed: the same seed and customers write the same bytes (default 0)",
    )
    parser.add_argument(
        "--bank-profile",
        choices=BANK_PROFILES,
        default="santander",
        help="the bank simulated: santander has the Kaggle data's rates; digital has more city "
        "customers and sells more e-accounts and cards; traditional has more rural customers "
        "and sells more deposits, pensions and plans (default santander)",
    )
    parser.add_argument(
        "--report",
        action="store_true",
        help="also print the fidelity report: the file's statistics against the real data's",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def add_train_options(parser: argparse.ArgumentParser) -> None:
    """The options of `bankreco train`."""
    parser.add_argument("--data", required=True, metavar="FILE", help=_DATA_HELP)
    parser.add_argument(
        "--out",
        required=True,
        metavar="DIR",
        help="directory to write model.pkl, model.forest.npz and manifest.json into "
        "(created if missing)",
    )
    parser.add_argument(
        "--months",
        nargs="+",
        type=month,
        metavar="MONTH",
        help="the months whose additions to learn, written 2016-04, 2016-04-28, 2016/04 or "
        "'Apr 2016'; each needs the month before it in the file (default: June 2015 and the "
        "four months before the last)",
    )
    parser.add_argument(
        "--all-months",
        action="store_true",
        help="train on every month of the file, the last one included (the production model): "
        "no month is held out, so train reports no MAP@7, and evaluate on this file scores a "
        "month the model has seen",
    )
    parser.add_argument(
        "--max-iter",
        type=positive_int,
        default=40,
        metavar="N",
        help="most boosting rounds (default 40; early stopping may end sooner)",
    )
    parser.add_argument(
        "--threads",
        type=positive_int,
        default=1,
        metavar="N",
        help="OpenMP threads of the fit (default 1; more help only on an idle machine)",
    )
    parser.add_argument(
        "--seed",
        type=non_negative_int,
        default=0,
        metavar="N",
        help="random seed of the hidden holdings and the fit (default 0)",
    )
    _add_fairness_options(parser)
    parser.add_argument("--quiet", action="store_true", help="no progress bars")


def _add_fairness_options(parser: argparse.ArgumentParser) -> None:
    """train's options on what the model may read and offer."""
    from bankreco.features import RAW_FIELDS

    parser.add_argument(
        "--exclude-features",
        nargs="*",
        metavar="FIELD",
        help="profile fields the model never reads, such as a protected attribute: "
        f"any of {', '.join(RAW_FIELDS)}. Serving still accepts them and ignores them; the "
        "manifest records them (default: sexo, which costs no MAP@7 on generated banks and "
        "evens out what men and women are offered; the option alone, without a field, "
        "excludes none)",
    )
    rules = parser.add_mutually_exclusive_group()
    rules.add_argument(
        "--rules",
        metavar="FILE",
        help="the bank's eligibility rules (JSON: product, field, operator, value), checked and "
        "embedded in the manifest, applied before ranking (default: the Santander rules shipped "
        "with bankreco)",
    )
    rules.add_argument(
        "--no-rules", action="store_true", help="a version without eligibility rules"
    )


def add_evaluate_options(parser: argparse.ArgumentParser) -> None:
    """The options of `bankreco evaluate`."""
    parser.add_argument("--data", required=True, metavar="FILE", help=_DATA_HELP)
    parser.add_argument(
        "--model", required=True, metavar="DIR", help="the model directory written by train"
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="print the month, customers, MAP@7 scores, rules and fairness figures as one JSON "
        "object instead of a table",
    )
    parser.add_argument(
        "--compare",
        metavar="DIR",
        help="a second model directory to score on the same customers: the report puts the two "
        "side by side (MAP@7, and the disparities by sex, age band and segment)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bars")


def train_config(args: argparse.Namespace) -> TrainConfig:
    """The TrainConfig of `bankreco train`'s arguments; ValueError naming a field that is not
    a profile field or a rules file that cannot be read or is invalid."""
    from bankreco.eligibility import default_rules, read_rules
    from bankreco.training.train import DEFAULT_EXCLUDED, TrainConfig

    rules = read_rules(args.rules) if args.rules else default_rules()
    return TrainConfig(
        months=tuple(args.months) if args.months else None,
        all_months=args.all_months,
        max_iter=args.max_iter,
        seed=args.seed,
        threads=args.threads,
        excluded_features=DEFAULT_EXCLUDED
        if args.exclude_features is None
        else tuple(dict.fromkeys(args.exclude_features)),
        rules=None if args.no_rules else rules,
    )
