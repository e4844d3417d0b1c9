"""Every row of a block checked by the API's rules, without a pydantic object per row.

A cell is read as the JSON value the API would be sent (`cells`), and each distinct value of
a column is checked once by the API's own model (`CustomerProfile`, one field at a time): its
verdict (valid, the canonical value, or the API's message) reaches every row holding it. The
income and the ids, which differ from row to row, are read digit by digit; what the common
forms do not cover goes through the same model one cell at a time. A row is rejected with
every field that fails.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Final, NamedTuple, Protocol

import numpy as np
import numpy.typing as npt
from pydantic import ValidationError

from bankreco import features
from bankreco.api.schemas import LEGACY_UNKNOWN_INCOME, MAX_INCOME, CustomerProfile
from bankreco.catalog import PRODUCT_CODES
from bankreco.scoring import cells
from bankreco.scoring.csvblocks import Block, Ints
from bankreco.scoring.layout import KAGGLE, Layout
from bankreco.scoring.values import Table, gather, numbers, raw, span

#: A profile the API accepts: each field is checked in it, in place of its own value.
_VALID: Final[dict[str, Any]] = {
    "sexo": "H",
    "age": 30,
    "segmento": "02 - PARTICULARES",
    "antiguedad": 12,
    "tiprel_1mes": "A",
    "renta": None,
    "pais_residencia": "ES",
    "ind_actividad_cliente": 1,
    "nomprov": "MADRID",
}
#: The fields read once per distinct value, with the 8-byte words their common values fill.
PER_VALUE: Final = {
    "sexo": 1,
    "age": 1,
    "segmento": 3,
    "antiguedad": 1,
    "tiprel_1mes": 1,
    "pais_residencia": 1,
    "ind_actividad_cliente": 1,
    "nomprov": 4,
}
NUMERIC: Final = frozenset({"age", "antiguedad", "ind_actividad_cliente"})
MAX_ID_BYTES: Final = 128  # the API's customer_id is at most 128 characters
Mask = npt.NDArray[np.bool_]
Floats = npt.NDArray[np.float64]


class Verdict(NamedTuple):
    """What the API makes of one cell: valid or not, the canonical value, the reason."""

    valid: bool
    value: Any
    reason: str


class Reject(NamedTuple):
    line: int
    field: str
    reason: str
    value: str


class Holdings(Protocol):
    """The products held by each customer (by ncodpers): 0/1 rows, NaN when unknown."""

    def lookup(self, ids: npt.NDArray[np.int64]) -> Floats: ...


@lru_cache(maxsize=1 << 16)
def verdict(name: str, text: str) -> Verdict:
    """The API's verdict on a cell of field `name` holding `text`."""
    value = cells.json_value(name, text)
    try:
        profile = CustomerProfile.model_validate({**_VALID, name: value})
    except ValidationError as exc:
        if value is None and name in _VALID and name != "renta":
            return Verdict(False, None, "missing (empty or NA)")
        return Verdict(False, None, "; ".join(str(e["msg"]) for e in exc.errors()))
    return Verdict(True, getattr(profile, name), "")


def _field_reader(name: str, layout: Layout) -> Callable[[bytes], Verdict]:
    if name == "nomprov" and layout.kind == KAGGLE:  # the export's decoding quirks repaired
        return lambda data: verdict(name, cells.province_text(cells.decode(data)))
    return lambda data: verdict(name, cells.decode(data))


def read_month(data: bytes) -> str | None:
    return cells.row_month(cells.decode(data))


def read_flag(data: bytes) -> float:
    """A product flag as the Kaggle reader reads it: 0 or 1, anything else unknown."""
    value = cells.number(cells.decode(data))
    return value if value in (0.0, 1.0) else np.nan


@dataclass
class Checked:
    """The rows to score (`rows`, indexes into `block`: the block checked, without the rows of
    other months), their nine fields as `features.encode` reads them, their holdings (None:
    unknown for all) and ids (ncodpers or line numbers; None when the ids are the block's
    customer_id cells); every failing field of the rejected rows; how many rows were of
    another month."""

    block: Block
    rows: Ints
    columns: dict[str, npt.NDArray[Any]]
    owned: Floats | None
    ids: npt.NDArray[np.int64] | None
    rejects: list[Reject] = field(default_factory=list)
    skipped: int = 0

    @property
    def rejected(self) -> int:
        """Rows rejected (a row may fail in several fields)."""
        return len({reject.line for reject in self.rejects})


@dataclass
class _Rows:
    """One block under check: the rows in scope (its month) and those still valid."""

    block: Block
    scope: Mask
    ok: Mask
    rejects: list[Reject]

    def reject(self, name: str, bad: Mask, spans: tuple[Ints, Ints], reasons: Any) -> None:
        """Rejects the rows of `bad` in scope, for field `name`; `reasons` is one reason or
        one per row of `bad`."""
        rows = np.flatnonzero(bad).tolist()
        why = [reasons] * len(rows) if isinstance(reasons, str) else list(reasons)
        starts, ends = spans
        for row, reason in zip(rows, why, strict=True):
            if self.scope[row]:
                text = cells.decode(raw(self.block, int(starts[row]), int(ends[row])))
                self.rejects.append(Reject(int(self.block.lines[row]), name, reason, text))
        self.ok &= ~bad


class Checker:
    """Checks the blocks of one file, keeping the tables of distinct values across blocks.

    Each block holds `layout.columns`, in that order; `month` keeps the rows of that month
    (`YYYY-MM`, Kaggle files); the products a row holds come from `holdings` (by ncodpers),
    else from its own product columns if `own`, else from `owned_products`, else unknown."""

    def __init__(
        self,
        layout: Layout,
        month: str | None = None,
        holdings: Holdings | None = None,
        own: bool = False,
    ) -> None:
        self.layout, self.month, self.holdings, self.own = layout, month, holdings, own
        self.position = {name: i for i, name in enumerate(layout.columns)}
        self.tables: dict[str, Table[Any]] = {
            name: Table(words, _field_reader(name, layout)) for name, words in PER_VALUE.items()
        }
        self.tables["fecha_dato"] = Table(2, read_month)
        self.tables["owned_products"] = Table(8, _field_reader("owned_products", layout))
        self.tables["product"] = Table(1, read_flag)

    def spans(self, block: Block, name: str) -> tuple[Ints, Ints]:
        return span(block, self.position[name])

    def check(self, block: Block) -> Checked:
        """The verdict on every row of `block`."""
        rejects = [
            Reject(line, "(row)", f"{count} fields, the header has {self.layout.width}", "")
            for line, count, _ in block.malformed
        ]
        scope = np.ones(block.rows, dtype=bool)
        skipped = self._in_month(block, scope, rejects)
        if not scope.all():
            block = block.select(scope)
            scope = np.ones(block.rows, dtype=bool)
        rows = _Rows(block, scope, scope.copy(), rejects)
        columns = {name: self._per_value(rows, name) for name in PER_VALUE}
        columns["renta"] = self._income(rows)
        ids = self._ids(rows)
        owned = self._owned(rows, ids)
        kept = np.flatnonzero(rows.ok)
        rejects.sort(key=lambda r: r.line)
        return Checked(
            block=block,
            rows=kept,
            columns={name: values[kept] for name, values in columns.items()},
            owned=None if owned is None else owned[kept],
            ids=None if ids is None else ids[kept],
            rejects=rejects,
            skipped=skipped,
        )

    def _in_month(self, block: Block, scope: Mask, rejects: list[Reject]) -> int:
        """Takes the rows of other months out of `scope`; rejects rows without a month."""
        if self.month is None or "fecha_dato" not in self.position:
            return 0
        spans = self.spans(block, "fecha_dato")
        table = self.tables["fecha_dato"]
        code = table.codes(block, *spans)
        known = table.array("known", lambda r: np.array([m is not None for m in r], bool))[code]
        month = self.month
        wanted = table.array(f"is {month}", lambda r: np.array([m == month for m in r], bool))
        _Rows(block, scope.copy(), scope, rejects).reject("fecha_dato", ~known, spans, "not a date")
        other = known & ~wanted[code]
        scope &= ~other
        return int(other.sum())

    def _per_value(self, rows: _Rows, name: str) -> npt.NDArray[Any]:
        spans = self.spans(rows.block, name)
        table = self.tables[name]
        code = table.codes(rows.block, *spans)
        valid = table.array("valid", lambda r: np.array([v.valid for v in r], dtype=bool))[code]
        if not valid.all():
            reasons = [table.results[c].reason for c in code[~valid].tolist()]
            rows.reject(name, ~valid, spans, reasons)
        if name in NUMERIC:
            return table.array("float", _floats)[code]
        return table.array("value", lambda r: np.array([v.value for v in r], dtype=object))[code]

    def _income(self, rows: _Rows) -> Floats:
        """renta: a number in [0, MAX_INCOME], or unknown (null, -99); NaN when unknown."""
        spans = self.spans(rows.block, "renta")
        values, odd = numbers(rows.block, *spans)
        values[values == LEGACY_UNKNOWN_INCOME] = np.nan
        bad = ~((values >= 0) & (values <= MAX_INCOME)) & ~np.isnan(values)
        bad[odd] = False
        for row in odd.tolist():
            found = verdict("renta", _text(rows.block, spans, row))
            values[row] = np.nan if found.value is None else found.value
            bad[row] = not found.valid
        if bad.any():
            reasons = [verdict("renta", _text(rows.block, spans, r)).reason for r in _where(bad)]
            rows.reject("renta", bad, spans, reasons)
        return values

    def _ids(self, rows: _Rows) -> npt.NDArray[np.int64] | None:
        if self.layout.kind == KAGGLE:
            return self._ncodpers(rows)
        if self.layout.id_column is None:
            return rows.block.lines
        self._customer_ids(rows)
        return None

    def _ncodpers(self, rows: _Rows) -> npt.NDArray[np.int64]:
        """ncodpers as the Kaggle reader reads it: a whole number in [0, 2**53)."""
        spans = self.spans(rows.block, "ncodpers")
        values, odd = numbers(rows.block, *spans)
        for row in odd.tolist():
            found = cells.number(_text(rows.block, spans, row))
            values[row] = np.nan if found is None else found
        good = (values >= 0) & (values < 2.0**53) & (values == np.floor(values))
        rows.reject("ncodpers", ~good, spans, "not a whole number >= 0")
        return np.where(good, values, 0).astype(np.int64)

    def _customer_ids(self, rows: _Rows) -> None:
        """customer_id by the API's rule: ids of printable ASCII without quotes or edge spaces
        are valid as they are; others are checked one by one."""
        block = rows.block
        starts, ends = spans = self.spans(block, self.layout.id_name)
        length = ends - starts
        width = int(min(max(int(length.max(initial=0)), 1), MAX_ID_BYTES + 1))
        text = gather(block, starts, np.minimum(ends, starts + width), width)
        inside = np.arange(width) < length[:, None]
        printable = (text >= 0x20) & (text <= 0x7E) & (text != ord('"'))
        common = (printable | ~inside).all(axis=1) & (length <= MAX_ID_BYTES)
        edges = text[np.arange(len(starts)), [np.zeros_like(length), np.maximum(length - 1, 0)]]
        common &= ((edges != ord(" ")).all(axis=0)) | (length == 0)
        bad = np.zeros(block.rows, dtype=bool)
        reasons: list[str] = []
        for row in np.flatnonzero(~common).tolist():
            found = verdict("customer_id", _text(block, spans, row))
            if not found.valid:
                bad[row] = True
                reasons.append(found.reason)
        rows.reject(self.layout.id_name, bad, spans, reasons)

    def _owned(self, rows: _Rows, ids: npt.NDArray[np.int64] | None) -> Floats | None:
        """The products each row holds, 0/1, NaN unknown; None when unknown for all."""
        if self.layout.owned_column is not None:
            return self._owned_products(rows)
        if self.holdings is not None and ids is not None:
            return self.holdings.lookup(ids)
        if self.own and self.layout.has_products:
            return self._own_products(rows.block)
        return None

    def _owned_products(self, rows: _Rows) -> Floats:
        spans = self.spans(rows.block, "owned_products")
        table = self.tables["owned_products"]
        code = table.codes(rows.block, *spans)
        valid = table.array("valid", lambda r: np.array([v.valid for v in r], dtype=bool))[code]
        if not valid.all():
            reasons = [table.results[c].reason for c in code[~valid].tolist()]
            rows.reject("owned_products", ~valid, spans, reasons)
        owned: Floats = table.array("owned", _owned_rows)[code]
        return owned

    def _own_products(self, block: Block) -> Floats:
        """The row's own product columns (train_ver2.csv), 0/1, NaN when not a flag."""
        owned = np.empty((block.rows, len(PRODUCT_CODES)), dtype=np.float64)
        table = self.tables["product"]
        for j, code in enumerate(PRODUCT_CODES):
            flags = table.codes(block, *self.spans(block, code))
            owned[:, j] = table.array("flag", lambda r: np.array(r, dtype=np.float64))[flags]
        return owned


def _text(block: Block, spans: tuple[Ints, Ints], row: int) -> str:
    return cells.decode(raw(block, int(spans[0][row]), int(spans[1][row])))


def _where(mask: Mask) -> list[int]:
    rows: list[int] = np.flatnonzero(mask).tolist()
    return rows


def _floats(results: list[Verdict]) -> Floats:
    return np.array([np.nan if v.value is None else float(v.value) for v in results])


def _owned_rows(results: list[Verdict]) -> Floats:
    """Each owned_products value as a 0/1 row over the catalog, NaN when unknown."""
    return features.holdings([v.value for v in results])
