"""The months of a Kaggle-format file and the products its customers held in one of them.

Scoring month M of `train_ver2.csv` answers as the competition and `bankreco evaluate` do:
the profile of M with the products held in the month before (`previous`); `same` takes the
products of M's own rows instead (a campaign for the month after M). A first pass over the
file finds its last month (the default) and keeps the holdings of the month wanted: 16 bytes
per customer (the id, and the products held and unknown as bits), the one thing that grows
with the file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Final

import numpy as np
import numpy.typing as npt

from bankreco.catalog import PRODUCT_CODES
from bankreco.scoring import cells
from bankreco.scoring.checks import read_flag, read_month
from bankreco.scoring.csvblocks import Block
from bankreco.scoring.layout import Layout
from bankreco.scoring.values import Table, numbers, span

PREVIOUS: Final = "previous"
SAME: Final = "same"
HOLDINGS: Final = (PREVIOUS, SAME)
_BITS: Final = np.uint64(1) << np.arange(len(PRODUCT_CODES), dtype=np.uint64)
_UNKNOWN: Final = np.uint64(32)
Ids = npt.NDArray[np.int64]
Packed = npt.NDArray[np.uint64]


@dataclass
class HeldProducts:
    """The products each customer held in `month`: ids sorted, each with its held and unknown
    products as bits (the first 24 bits held, the 24 from bit 32 unknown)."""

    month: str
    ids: Ids = field(default_factory=lambda: np.empty(0, np.int64))
    packed: Packed = field(default_factory=lambda: np.empty(0, np.uint64))

    def lookup(self, ids: Ids) -> npt.NDArray[np.float64]:
        """0/1 per product, NaN unknown; rows of customers absent from the month all NaN."""
        at = np.minimum(np.searchsorted(self.ids, ids), max(len(self.ids) - 1, 0))
        found = self.ids[at] == ids if len(self.ids) else np.zeros(len(ids), dtype=bool)
        packed = np.where(found, self.packed[at] if len(self.ids) else 0, 0).astype(np.uint64)
        held: npt.NDArray[np.float64] = ((packed[:, None] & _BITS) != 0).astype(np.float64)
        held[((packed[:, None] >> _UNKNOWN) & _BITS) != 0] = np.nan
        held[~found] = np.nan
        return held

    @property
    def customers(self) -> int:
        return len(self.ids)


@dataclass
class Survey:
    """What a first pass found: the file's last month, and the holdings of `wanted` (or of
    the month before the last, when no month was wanted)."""

    last: str | None
    held: HeldProducts | None


def pack(flags: npt.NDArray[np.float64]) -> Packed:
    """Rows of 24 flags (0/1, NaN unknown) as bits."""
    held = ((flags == 1.0) * _BITS).sum(axis=1, dtype=np.uint64)
    unknown = (np.isnan(flags) * _BITS).sum(axis=1, dtype=np.uint64)
    packed: Packed = held | (unknown << _UNKNOWN)
    return packed


class _Months:
    """Holdings of the months kept so far: one month, or the two latest seen."""

    def __init__(self, wanted: str | None) -> None:
        self.wanted = wanted
        self.parts: dict[str, list[tuple[Ids, Packed]]] = {}
        self.seen: set[str] = set()

    def add(self, month: str, ids: Ids, packed: Packed) -> None:
        self.seen.add(month)
        if self.wanted is None or month == self.wanted:
            self.parts.setdefault(month, []).append((ids, packed))
        if self.wanted is None:
            for old in sorted(self.parts)[:-2]:  # the month before the last is among these
                del self.parts[old]

    def held(self, month: str) -> HeldProducts:
        parts = self.parts.get(month, [])
        if not parts:
            return HeldProducts(month)
        ids = np.concatenate([p[0] for p in parts])
        packed = np.concatenate([p[1] for p in parts])
        unique, first = np.unique(ids, return_index=True)  # a repeated customer: the first row
        return HeldProducts(month, unique, packed[first])


def survey(
    blocks: Iterator[Block],
    layout: Layout,
    wanted: str | None,
    keep: bool,
    progress: Callable[[int], None] = lambda rows: None,
) -> Survey:
    """One pass over a Kaggle file's blocks (columns: fecha_dato, ncodpers, then the products,
    as `survey_columns` lists them): its last month and, if `keep`, the holdings of `wanted`
    (None: of the month before the last)."""
    months_table: Table[str | None] = Table(2, read_month)
    flags_table: Table[float] = Table(1, read_flag)
    kept = _Months(wanted)
    for block in blocks:
        code = months_table.codes(block, *span(block, 0))
        month = months_table.array("month", lambda r: np.array(r, dtype=object))[code]
        if keep:
            _keep_block(block, month, flags_table, kept)
        else:
            kept.seen.update(m for m in months_table.results if m is not None)
        progress(block.rows)
    last = max(kept.seen) if kept.seen else None
    target = wanted or (cells.previous_month(last) if last else None)
    return Survey(last, kept.held(target) if keep and target else None)


def survey_columns(layout: Layout) -> list[int]:
    """The file columns `survey` reads, in its order."""
    return [layout.columns["fecha_dato"], layout.columns["ncodpers"], *layout.products.values()]


def _keep_block(
    block: Block, month: npt.NDArray[np.object_], flags_table: Table[float], kept: _Months
) -> None:
    """Adds the holdings of the rows of the months `kept` keeps."""
    present = {m for m in month.tolist() if m is not None}
    candidates = {kept.wanted} if kept.wanted else set(sorted(kept.seen | present)[-2:])
    kept.seen |= present
    wanted = sorted(present & candidates)
    if not wanted:
        return
    rows = np.isin(month, wanted)
    block, month = block.select(rows), month[rows]
    ids, odd = numbers(block, *span(block, 1))
    good = (ids >= 0) & (ids < 2.0**53) & (ids == np.floor(ids))
    good[odd] = False  # ids the common form does not read are not joined on
    flags = np.empty((block.rows, len(PRODUCT_CODES)), dtype=np.float64)
    for j in range(len(PRODUCT_CODES)):
        code = flags_table.codes(block, *span(block, 2 + j))
        flags[:, j] = flags_table.array("flag", lambda r: np.array(r, dtype=np.float64))[code]
    packed = pack(flags)
    for name in wanted:
        chosen = good & (month == name)
        kept.add(name, ids[chosen].astype(np.int64), packed[chosen])
