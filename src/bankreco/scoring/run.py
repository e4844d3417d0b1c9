"""One input stream scored to one output stream, block by block: memory does not grow with
the file (only the holdings of a previous month do, see `holdings`).

`score_blocks` is the loop both paths share: `score_file` runs it on a local file (plain,
.gz, .bz2, .xz or .zip), the Lambda handlers of `cloud` on a byte range of an S3 object.
"""

from __future__ import annotations

import bz2
import ctypes
import gzip
import lzma
import os
import time
import zipfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Final, cast

from bankreco.domain.model import LoadedModel
from bankreco.scoring import cells, output, reasons
from bankreco.scoring.checks import Checked, Checker
from bankreco.scoring.csvblocks import Block, read_blocks, split_header
from bankreco.scoring.holdings import PREVIOUS, HeldProducts, survey, survey_columns
from bankreco.scoring.layout import KAGGLE, Layout, layout_of
from bankreco.scoring.rank import rank
from bankreco.scoring.values import gather

_M_TRIM_THRESHOLD: Final = -1  # glibc's mallopt parameters
_M_MMAP_THRESHOLD: Final = -3
EXIT_OK: Final = 0
EXIT_REJECTED: Final = 3  # the run finished; some rows were rejected (see the rejects file)
Progress = Callable[[str, int], None]  # (phase, rows done since the last call)


@dataclass(frozen=True)
class Options:
    """How to score: the bank, how many products, the output format, the month of a Kaggle
    file (`YYYY-MM`; None: its last), where the products held come from, and whether each
    product gets its reasons (wide format only, `reasons`)."""

    bank: str
    top_k: int = 7
    form: str = output.WIDE
    month: str | None = None
    holdings: str = PREVIOUS
    explain: bool = False


@dataclass
class Summary:
    """What a run did."""

    rows: int = 0  # data rows read, of every month
    scored: int = 0
    rejected: int = 0  # rows; a rejected row may fail in several fields
    skipped: int = 0  # rows of another month
    model_version: str = ""
    month: str | None = None
    holdings: str = "unknown"
    seconds: float = 0.0
    ignored: tuple[str, ...] = field(default_factory=tuple)

    @property
    def exit_code(self) -> int:
        return EXIT_REJECTED if self.rejected else EXIT_OK

    def add(self, checked: Checked, rows: int) -> None:
        self.rows += rows
        self.scored += len(checked.rows)
        self.rejected += checked.rejected
        self.skipped += checked.skipped


def _compressed(path: Path, raw: BinaryIO) -> BinaryIO:
    suffix = path.suffix.lower()
    if suffix == ".gz":
        return cast(BinaryIO, gzip.GzipFile(fileobj=raw))
    if suffix == ".bz2":
        return cast(BinaryIO, bz2.BZ2File(raw))
    if suffix == ".xz":
        return cast(BinaryIO, lzma.LZMAFile(raw))
    if suffix == ".zip":
        archive = zipfile.ZipFile(raw)
        members = [m for m in archive.namelist() if not m.endswith("/")]
        if len(members) != 1:
            raise ValueError(f"{path}: expected one file in the archive, found {len(members)}")
        return cast(BinaryIO, archive.open(members[0]))
    return raw


@contextmanager
def open_input(path: Path) -> Iterator[BinaryIO]:
    """The bytes of a CSV file, decompressed by its suffix."""
    with ExitStack() as stack:
        raw = stack.enter_context(path.open("rb"))
        try:
            stream = _compressed(path, raw)
        except (OSError, zipfile.BadZipFile, EOFError) as exc:
            raise ValueError(f"{path} cannot be opened: {exc}") from exc
        if stream is not raw:
            stack.enter_context(stream)
        yield stream


def score_blocks(
    blocks: Iterable[Block],
    checker: Checker,
    model: LoadedModel,
    options: Options,
    out: BinaryIO,
    rejects: output.RejectsWriter,
    progress: Progress = lambda phase, rows: None,
) -> Summary:
    """Score every block: recommendations to `out`, rejected rows to `rejects`."""
    summary = Summary(model_version=model.version)
    for block in blocks:
        checked = checker.check(block)
        summary.add(checked, block.rows + len(block.malformed))
        if len(checked.rows) and options.explain:
            out.write(_explained_rows(checked, checker, model, options))
        elif len(checked.rows):
            ranking = rank(model, checked.columns, checked.owned, options.top_k)
            ids = _ids(checked, checker)
            out.write(output.rows(options.form, ids, model.version, ranking))
        rejects.write(checked.rejects)
        progress("scoring", block.rows + len(block.malformed))
    return summary


def _explained_rows(
    checked: Checked, checker: Checker, model: LoadedModel, options: Options
) -> bytes:
    """The output lines of a block's scored rows, each product with its reasons."""
    ranking, sentences = reasons.rank_explained(
        model, checked.columns, checked.owned, options.top_k
    )
    ids = _ids(checked, checker)
    return output.rows(options.form, ids, model.version, ranking, sentences)


def _ids(checked: Checked, checker: Checker) -> output.Matrix:
    """The id text of each scored row: ncodpers or line numbers, else the customer_id cell
    as written (quoted if it was)."""
    if checked.ids is not None:
        return output.integers(checked.ids)
    block = checked.block
    starts, ends = checker.spans(block, checker.layout.id_name)
    starts, ends = starts[checked.rows], ends[checked.rows]
    width = max(int((ends - starts).max(initial=0)), 1)
    return gather(block, starts, ends, width)


@dataclass(frozen=True)
class Plan:
    """What a Kaggle file is scored with: its month, and the products held."""

    month: str | None
    held: HeldProducts | None
    own: bool
    holdings: str  # said in the summary


def plan(path: Path, layout: Layout, options: Options, progress: Progress) -> Plan:
    """The month to score and the holdings to use, reading the file once more if needed: a
    file with products (train_ver2.csv) is scored in its last month unless told otherwise; a
    profiles file (test_ver2.csv, one month) in every row."""
    if layout.kind != KAGGLE:
        source = "owned_products" if layout.owned_column is not None else "unknown"
        return Plan(None, None, False, source)
    if not layout.has_products:
        return Plan(options.month, None, False, "unknown")
    wanted = options.month
    if options.holdings == PREVIOUS or wanted is None:
        with open_input(path) as stream:
            names, pending = split_header(stream)
            blocks = read_blocks(stream, len(names), survey_columns(layout), pending=pending)
            target = cells.previous_month(wanted) if wanted else None
            keep = options.holdings == PREVIOUS
            found = survey(blocks, layout, target, keep, lambda n: progress("months", n))
        wanted = wanted or found.last
        if keep:
            held = found.held or HeldProducts(cells.previous_month(wanted or "0001-02"))
            said = f"held in {held.month} ({held.customers:,} customers)"
            return Plan(wanted, held, False, said)
    return Plan(wanted, None, True, f"held in {wanted} (the month's own rows)")


def keep_freed_memory() -> None:
    """Have glibc keep freed memory for reuse: a block's numpy temporaries (up to a few MB)
    are over its mmap threshold, so each would be unmapped when freed and page-faulted back
    in for the next block. The Lambda functions get the same through GLIBC_TUNABLES."""
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(_M_MMAP_THRESHOLD, 32 << 20)
        libc.mallopt(_M_TRIM_THRESHOLD, 128 << 20)
    except (OSError, AttributeError):
        pass  # not glibc: its allocator's own policy


def score_file(
    data: Path,
    out: Path,
    model: LoadedModel,
    options: Options,
    progress: Progress = lambda phase, rows: None,
) -> Summary:
    """Score the file `data` into `out` and its rejected rows into `rejects_path(out)`. Both
    are written under temporary names and renamed at the end: a run that fails leaves
    neither."""
    started = time.perf_counter()
    if options.explain:
        if options.form != output.WIDE:
            raise ValueError(f"reasons need the wide format: {options.form} has no column for them")
        reasons.check_explainable(model)
    keep_freed_memory()
    with open_input(data) as stream:
        layout = layout_of(split_header(stream)[0])
    scoring = plan(data, layout, options, progress)
    checker = Checker(layout, scoring.month, scoring.held, scoring.own)
    targets = {out: _partial(out), rejects_path(out): _partial(rejects_path(out))}
    try:
        summary = _score_into(data, layout, checker, model, options, targets, progress)
    finally:
        for partial in targets.values():
            partial.unlink(missing_ok=True)
    summary.month, summary.holdings = scoring.month, scoring.holdings
    summary.ignored = layout.ignored
    summary.seconds = time.perf_counter() - started
    return summary


def _partial(path: Path) -> Path:
    return path.with_name(path.name + ".partial")


def _score_into(
    data: Path,
    layout: Layout,
    checker: Checker,
    model: LoadedModel,
    options: Options,
    targets: dict[Path, Path],
    progress: Progress,
) -> Summary:
    """score_blocks from `data` into the temporary files of `targets` (final -> temporary),
    renamed once complete."""
    out, bad = list(targets.values())
    with (
        open_input(data) as stream,
        out.open("wb") as target,
        bad.open("w", encoding="utf-8", newline="") as rejects,
    ):
        names, pending = split_header(stream)
        target.write(output.header(options.form, layout.id_name, options.top_k, options.explain))
        blocks = read_blocks(stream, len(names), list(layout.columns.values()), pending=pending)
        summary = score_blocks(
            blocks, checker, model, options, target, output.RejectsWriter(rejects), progress
        )
    for final, partial in targets.items():
        os.replace(partial, final)
    return summary


def rejects_path(out: Path) -> Path:
    """Where the rejected rows of the output `out` go."""
    return out.with_name(out.name + ".rejects.csv")
