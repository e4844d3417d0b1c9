"""Read Santander-format snapshot CSVs (``train_ver2.csv``, ``test_ver2.csv``) into a compact frame.

The reader streams the file in chunks, keeps only the columns the model uses and the requested
months, and cleans every value with vectorised operations (or a lookup over a column's few
distinct values). Bad profile values become NaN; only rows without a usable ``fecha_dato`` or
``ncodpers`` are dropped, and they are counted by reason.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import warnings
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Final, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from tqdm import tqdm

from bankreco.catalog import (
    PRODUCT_CODES,
    PROFILE_FIELDS,
    PROVINCE_NAMES,
    PROVINCES,
    RELATION_TYPES,
    SEGMENTS,
    SEXES,
    canonical_province,
    canonical_segment,
    fold,
)

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

REQUIRED_COLUMNS: Final = ("fecha_dato", "ncodpers")
MODEL_PROFILE_COLUMNS: Final = PROFILE_FIELDS  # the profile fields the model uses, in order

# Reasons used as keys of ReadResult.dropped.
DROP_BAD_DATE: Final = "unparseable fecha_dato"
DROP_MISSING_ID: Final = "missing ncodpers"
DROP_BAD_ID: Final = "non-numeric ncodpers"
DROP_DUPLICATE: Final = "duplicate customer-month"

_Compression = Literal["gzip", "bz2", "zip", "xz", "zstd"]
_COMPRESSION: Final[dict[str, _Compression]] = {
    ".gz": "gzip",
    ".bz2": "bz2",
    ".zip": "zip",
    ".xz": "xz",
    ".zst": "zstd",
}
_ISO_DATE: Final = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T][\d:.]*)?")
_SHEET_DATE: Final = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4}|\d{2})(?: [\d:.]*(?: ?[AP]M)?)?")
_YEAR_MONTH: Final = re.compile(r"(\d{4})[-/.](\d{1,2})(?:[-/.]\d{1,2}(?:[ T][\d:.]*)?)?")
_MONTH_YEAR: Final = re.compile(r"(\d{1,2})[-/.](\d{4})")
_NAMED_MONTH: Final = re.compile(r"([^\W\d_]+)\.?[\s,-]*(\d{4})")
_MONTH_NAMES: Final = {
    name: number
    for number, names in enumerate(
        (
            ("january", "jan", "enero", "ene"),
            ("february", "feb", "febrero"),
            ("march", "mar", "marzo"),
            ("april", "apr", "abril", "abr"),
            ("may", "mayo"),
            ("june", "jun", "junio"),
            ("july", "jul", "julio"),
            ("august", "aug", "agosto", "ago"),
            ("september", "sep", "sept", "septiembre", "setiembre"),
            ("october", "oct", "octubre"),
            ("november", "nov", "noviembre"),
            ("december", "dec", "diciembre", "dic"),
        ),
        start=1,
    )
    for name in names
}
_COUNTRY: Final = re.compile(r"[A-Z]{2}")
_MAX_EXACT_ID: Final = 2.0**53
_READ_BUFFER: Final = 64 * 1024  # bytes read from the file at a time when pandas asks for less


@dataclass
class ReadResult:
    """A cleaned frame, the rows dropped by reason, and the number of data rows in the file."""

    frame: pd.DataFrame
    dropped: dict[str, int]
    rows_read: int
    missing: tuple[str, ...] = ()  # profile and product columns absent from the file


def read_snapshots(
    path: str | os.PathLike[str],
    months: Sequence[str] | None = None,
    *,
    chunksize: int = 500_000,
    progress: bool = False,
    on_read: Callable[[int], None] | None = None,
) -> ReadResult:
    """Read a Santander-format CSV (plain or .gz/.bz2/.zip/.xz/.zst), keeping only ``months``.

    ``months`` are months in any form `month_key` reads (``2016-05``, ``2016-05-28``, ``May
    2016``), matched by year and month against ``fecha_dato`` in either ISO or spreadsheet
    (``5/28/2016``) form; None keeps all. The frame has ``fecha_dato`` (category of ISO dates),
    ``ncodpers`` (int64), the nine model profile fields (category, float32, or float64 for
    renta; NaN when missing or invalid; a profile column absent from the file is all NaN, with
    a warning) and the product flags present in the file (float32 0/1; a file with some but not
    all of them warns about the others). ``rows_read`` counts every data row of the file,
    whatever its month.

    ``progress`` shows a bar of the bytes of the file read (compressed bytes for a compressed
    file); ``on_read`` is called with the number of bytes of each read as it happens.

    Raises FileNotFoundError when the file does not exist, ValueError when it is a directory,
    is empty, is not a CSV, or lacks fecha_dato/ncodpers.
    """
    if chunksize < 1:
        raise ValueError(f"chunksize must be positive, got {chunksize}")
    month_keys = None if months is None else _month_keys(months)
    source = Path(path)
    compression = _COMPRESSION.get(source.suffix.lower())
    rename, missing = _columns_to_read(source, _read_header(source, compression))
    plan = _Plan(
        source=source,
        compression=compression,
        rename=rename,
        products=tuple(code for code in PRODUCT_CODES if code in rename.values()),
        month_keys=month_keys,
    )
    dropped: Counter[str] = Counter()
    frames, rows_read = _read_frames(plan, dropped, chunksize, _Progress(progress, on_read))
    if not frames:
        frames = [_clean_chunk(_blank(rename), None, plan.products, dropped)]
    frame = _concat(frames)
    duplicated = frame.duplicated(["fecha_dato", "ncodpers"], keep="first").to_numpy()
    if duplicated.any():
        dropped[DROP_DUPLICATE] += int(duplicated.sum())
        frame = frame.loc[~duplicated].reset_index(drop=True)
    return ReadResult(
        frame=frame,
        dropped={reason: count for reason, count in dropped.items() if count},
        rows_read=rows_read,
        missing=missing,
    )


@dataclass(frozen=True)
class _Plan:
    """What to read from a file: which columns, under which names, and which months."""

    source: Path
    compression: _Compression | None
    rename: dict[str, str]  # the file's name of each column read -> its canonical name
    products: tuple[str, ...]  # the product flags present in the file
    month_keys: frozenset[str] | None  # ``YYYY-MM`` of the months kept; None keeps all


@dataclass(frozen=True)
class _Progress:
    """How a read reports the bytes it has read: a bar, a callback, both or neither."""

    bar: bool = False
    on_read: Callable[[int], None] | None = None


def _columns_to_read(source: Path, header: list[str]) -> tuple[dict[str, str], tuple[str, ...]]:
    """The file's name of each column the reader keeps, mapped to its canonical name, and the
    profile and product columns the file lacks.

    Raises ValueError when fecha_dato or ncodpers is missing; warns about missing profile
    columns, which are read as missing values, and about product columns missing from a file
    that has others, which read as never held.
    """
    by_name = _require_columns(source, header)
    absent = [name for name in MODEL_PROFILE_COLUMNS if name not in by_name]
    if absent:
        warnings.warn(
            f"{source} has no {_names(absent)} column: "
            f"{'its values are' if len(absent) == 1 else 'their values are'} read as missing",
            stacklevel=3,  # the caller of read_snapshots
        )
    products = [code for code in PRODUCT_CODES if code not in by_name]
    if products and len(products) < len(PRODUCT_CODES):
        warnings.warn(
            f"{source} has no {_names(products)} column: read as never held "
            "(never added, so never recommended)",
            stacklevel=3,
        )
    wanted = REQUIRED_COLUMNS + MODEL_PROFILE_COLUMNS + PRODUCT_CODES
    rename = {by_name[name]: name for name in wanted if name in by_name}
    return rename, (*absent, *(products if len(products) < len(PRODUCT_CODES) else ()))


def _names(columns: Sequence[str]) -> str:
    """``a``, ``a and b`` or ``a, b and c``."""
    return columns[0] if len(columns) == 1 else f"{', '.join(columns[:-1])} and {columns[-1]}"


def _require_columns(source: Path, header: list[str]) -> dict[str, str]:
    """The header's columns by lower-case name; ValueError naming what lacks fecha_dato or
    ncodpers (a file in another format, say) and how its first line starts."""
    by_name = {name.strip().lower(): name for name in header}
    missing = [name for name in REQUIRED_COLUMNS if name not in by_name]
    if missing:
        start = ",".join(header)
        raise ValueError(
            f"{source} is not in the train_ver2.csv format: its header lacks {', '.join(missing)}"
            f"; its first line starts {start[:40]!r}{'...' if len(start) > 40 else ''}"
        )
    return by_name


def products_in(path: str | os.PathLike[str]) -> tuple[str, ...]:
    """The product flags (``ind_*_ult1``) named in the header of a Santander-format file."""
    source = Path(path)
    header = _read_header(source, _COMPRESSION.get(source.suffix.lower()))
    by_name = _require_columns(source, header)
    return tuple(code for code in PRODUCT_CODES if code in by_name)


class _CountingReader(io.RawIOBase):
    """A binary file that reports the size of each read to a callback.

    pandas reads a handle through its own buffer and text wrapper (``readinto``, ``read1``),
    never through a wrapper's ``read`` alone; every read of a raw stream ends in ``readinto``.
    """

    def __init__(self, raw: io.FileIO, on_read: Callable[[int], None]) -> None:
        super().__init__()
        self._raw = raw
        self._on_read = on_read

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return self._raw.seekable()  # a zip file's directory is read before its member

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self._raw.seek(offset, whence)

    def tell(self) -> int:
        return self._raw.tell()

    def readinto(self, buffer: WriteableBuffer) -> int | None:
        count = self._raw.readinto(buffer)
        if count:
            self._on_read(count)
        return count


@contextmanager
def _counted(source: Path, desc: str, progress: _Progress) -> Iterator[IO[bytes]]:
    """``source`` opened for pandas, its reads shown on a bar of the file's bytes and passed
    to ``progress.on_read``."""
    size = source.stat().st_size
    with (
        source.open("rb", buffering=0) as raw,
        tqdm(
            total=size,
            unit="B",
            unit_scale=True,
            unit_divisor=1024,
            desc=desc,
            disable=not progress.bar,
        ) as bar,
    ):

        def advance(count: int) -> None:
            bar.update(min(count, size - bar.n))  # a zip file's directory is read twice
            if progress.on_read is not None:
                progress.on_read(count)

        with io.BufferedReader(_CountingReader(raw, advance), _READ_BUFFER) as handle:
            yield handle


def _read_frames(
    plan: _Plan, dropped: Counter[str], chunksize: int, progress: _Progress
) -> tuple[list[pd.DataFrame], int]:
    """The cleaned chunks that have rows (or the first chunk, if none has) and the number of
    data rows in the file; counts the rows dropped by reason in ``dropped``."""
    frames: list[pd.DataFrame] = []
    empty: pd.DataFrame | None = None
    rows_read = 0
    with _counted(plan.source, plan.source.name, progress) as handle:
        try:
            chunks = pd.read_csv(
                handle,
                usecols=list(plan.rename),
                dtype=str,
                keep_default_na=False,
                na_filter=False,
                compression=plan.compression,
                encoding="utf-8-sig",
                encoding_errors="replace",
                chunksize=chunksize,
            )
            with chunks:
                for chunk in chunks:
                    rows_read += len(chunk)
                    renamed = chunk.rename(columns=plan.rename)
                    part = _clean_chunk(renamed, plan.month_keys, plan.products, dropped)
                    if len(part):
                        frames.append(part)
                    elif empty is None:
                        empty = part
        except (pd.errors.ParserError, EOFError, OSError, zipfile.BadZipFile) as exc:
            raise ValueError(
                f"{plan.source}: cannot parse as CSV after {rows_read} rows: {_one_line(exc)}"
            ) from exc
    if not frames and empty is not None:
        frames = [empty]
    return frames, rows_read


def _one_line(exc: BaseException) -> str:
    """An exception's message on one line (pandas' parser errors end with a newline)."""
    return " ".join(str(exc).split())


def _blank(rename: dict[str, str]) -> pd.DataFrame:
    """A chunk without rows, for files without data rows."""
    return pd.DataFrame({name: pd.Series([], dtype="str") for name in rename.values()})


def _check_file(source: Path) -> None:
    """FileNotFoundError or ValueError, each naming ``source``, unless it is a readable file."""
    if not source.exists():
        raise FileNotFoundError(f"{source}: no such file")
    if source.is_dir():
        raise ValueError(f"{source} is a directory, not a CSV file")
    if not os.access(source, os.R_OK):
        raise ValueError(f"{source} cannot be read: permission denied")


def _read_header(source: Path, compression: _Compression | None) -> list[str]:
    """The column names of ``source``; FileNotFoundError or ValueError when it is missing, a
    directory, empty or not a CSV file."""
    _check_file(source)
    try:
        head = pd.read_csv(
            source,
            nrows=0,
            dtype=str,
            compression=compression,
            encoding="utf-8-sig",
            encoding_errors="replace",
        )
    except pd.errors.EmptyDataError as exc:
        raise ValueError(f"{source} is empty: expected a CSV with a header row") from exc
    except (pd.errors.ParserError, UnicodeError, OSError, EOFError, zipfile.BadZipFile) as exc:
        raise ValueError(f"{source} is not a readable CSV file: {_one_line(exc)}") from exc
    return [str(name) for name in head.columns]


def month_key(text: str) -> str:
    """``YYYY-MM`` of a month as people write it: ``2016-05``, ``2016-05-28``, ``2016/05``,
    ``05/2016``, ``5/28/2016``, ``May 2016``, ``mayo 2016``; ValueError for anything else."""
    value = text.strip()
    year, month = 0, 0
    if match := _YEAR_MONTH.fullmatch(value):
        year, month = int(match[1]), int(match[2])
    elif match := _MONTH_YEAR.fullmatch(value):
        year, month = int(match[2]), int(match[1])
    elif match := _NAMED_MONTH.fullmatch(value):
        year, month = int(match[2]), _MONTH_NAMES.get(match[1].lower(), 0)
    elif date := _iso_date(value):
        year, month = int(date[:4]), int(date[5:7])
    if not 1 <= month <= 12:
        raise ValueError(f"{text!r} is not a month: write it as 2016-05, 2016-05-28 or 'May 2016'")
    return f"{year:04d}-{month:02d}"


def _month_keys(months: Sequence[str]) -> frozenset[str]:
    """``YYYY-MM`` keys of the requested months; ValueError for anything else."""
    if isinstance(months, str):
        months = [months]
    return frozenset(month_key(month) for month in months)


def _clean_chunk(
    chunk: pd.DataFrame,
    month_keys: frozenset[str] | None,
    products: tuple[str, ...],
    dropped: Counter[str],
) -> pd.DataFrame:
    """The canonical frame for the rows of ``chunk`` in ``month_keys``; counts drops."""
    codes, uniques = pd.factorize(chunk["fecha_dato"])
    dates = [_iso_date(str(value)) for value in uniques]
    unparseable = np.array([date is None for date in dates] + [True])[codes]
    dropped[DROP_BAD_DATE] += int(unparseable.sum())
    wanted = [date is not None and (month_keys is None or date[:7] in month_keys) for date in dates]
    chunk = chunk.loc[np.array([*wanted, False])[codes]]

    ids = pd.to_numeric(chunk["ncodpers"], errors="coerce").to_numpy(dtype=np.float64)
    with np.errstate(invalid="ignore"):
        valid = np.isfinite(ids) & (ids >= 0) & (ids < _MAX_EXACT_ID) & (ids == np.floor(ids))
    if not valid.all():
        blank = chunk["ncodpers"].str.strip().isin(["", "NA"]).to_numpy()
        dropped[DROP_MISSING_ID] += int((~valid & blank).sum())
        dropped[DROP_BAD_ID] += int((~valid & ~blank).sum())
        chunk = chunk.loc[valid]
        ids = ids[valid]

    columns: dict[str, pd.Categorical[str] | npt.NDArray[np.generic]] = {
        "fecha_dato": _categorical(chunk["fecha_dato"], _iso_date, None),
        "ncodpers": ids.astype(np.int64),
    }
    for name in MODEL_PROFILE_COLUMNS:
        values = chunk[name] if name in chunk else pd.Series([""] * len(chunk), dtype="str")
        columns[name] = _clean_profile(name, values)
    for code in products:
        columns[code] = _flag(chunk[code])
    return pd.DataFrame(columns)


def _clean_profile(
    name: str, values: pd.Series
) -> pd.Categorical[str] | npt.NDArray[np.float32] | npt.NDArray[np.float64]:
    """One model profile column, cleaned to its canonical category or numbers (float32; renta
    float64, so it encodes exactly as the API's float does)."""
    if name == "sexo":
        return _categorical(values, _member(SEXES), SEXES)
    if name == "tiprel_1mes":
        return _categorical(values, _member(RELATION_TYPES), RELATION_TYPES)
    if name == "segmento":
        return _categorical(values, canonical_segment, SEGMENTS)
    if name == "nomprov":
        return _categorical(values, _province, PROVINCE_NAMES)
    if name == "pais_residencia":
        return _categorical(values, _country, None)
    if name == "ind_actividad_cliente":
        return _flag(values)
    if name == "renta":
        return _number(values, np.float64)
    numbers = _number(values)
    if name == "antiguedad":
        numbers[numbers < 0] = np.nan  # includes the -999999 sentinel
    return numbers


def _number(values: pd.Series, dtype: type[np.floating[Any]] = np.float32) -> npt.NDArray[Any]:
    """Values as `dtype`; blank, NA, non-numeric and non-finite become NaN."""
    codes, uniques = pd.factorize(values)  # parse each distinct spelling once
    parsed = pd.to_numeric(pd.Series(uniques), errors="coerce").to_numpy(np.float64, copy=True)
    parsed[~np.isfinite(parsed)] = np.nan
    return np.append(parsed, np.nan).astype(dtype)[codes]


def _flag(values: pd.Series) -> npt.NDArray[np.float32]:
    """A 0/1 flag as float32; anything else becomes NaN."""
    numbers = _number(values)
    numbers[(numbers != 0) & (numbers != 1)] = np.nan
    return numbers


def _categorical(
    values: pd.Series,
    normalise: Callable[[str], str | None],
    categories: Sequence[str] | None,
) -> pd.Categorical[str]:
    """Map each distinct value through ``normalise`` into ``categories`` (None: those seen)."""
    codes, uniques = pd.factorize(values)
    mapped = [normalise(str(value)) for value in uniques]
    if categories is None:
        categories = sorted({name for name in mapped if name is not None})
    position = {name: index for index, name in enumerate(categories)}
    table = np.array(
        [-1 if name is None else position.get(name, -1) for name in mapped] + [-1],
        dtype=np.int32,
    )
    return pd.Categorical.from_codes(table[codes], categories=pd.Index(list(categories)))


def _member(allowed: Sequence[str]) -> Callable[[str], str | None]:
    """A normaliser keeping upper-cased values found in ``allowed``."""

    def normalise(text: str) -> str | None:
        value = text.strip().upper()
        return value if value in allowed else None

    return normalise


def _country(text: str) -> str | None:
    """A two-letter upper-case country code, or None."""
    value = text.strip().upper()
    return value if value != "NA" and _COUNTRY.fullmatch(value) else None


def _province(text: str) -> str | None:
    """The catalog spelling of a province, also from mis-decoded text, or None."""
    found = canonical_province(text)
    if found is not None or text.isascii():
        return found
    for codec in ("cp1252", "latin-1"):  # UTF-8 read as a single-byte code page
        try:
            found = canonical_province(text.encode(codec).decode("utf-8"))
        except UnicodeError:
            continue
        if found is not None:
            return found
    if "\ufffd" in text:  # a single-byte (latin-1) file decoded with replacement characters
        pattern = re.compile(re.escape(fold(text)).replace("\ufffd", "."))
        hits = [name for name in PROVINCES if pattern.fullmatch(fold(name))]
        if len(hits) == 1:
            return hits[0]
    return None


def _iso_date(text: str) -> str | None:
    """``YYYY-MM-DD`` from an ISO or spreadsheet (``M/D/YYYY``) date, or None."""
    text = text.strip()
    if match := _ISO_DATE.fullmatch(text):
        year, month, day = (int(part) for part in match.groups())
    elif match := _SHEET_DATE.fullmatch(text):
        month, day, year = (int(part) for part in match.groups())
        year += 2000 if year < 100 else 0
        if month > 12 >= day:  # day-first spreadsheet locale
            month, day = day, month
    else:
        return None
    try:
        return dt.date(year, month, day).isoformat()
    except ValueError:
        return None


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate chunk frames, uniting categories so category columns stay categorical."""
    first = frames[0]
    for name in first.columns:
        if not isinstance(first[name].dtype, pd.CategoricalDtype):
            continue
        categories = [frame[name].cat.categories for frame in frames]
        if any(not other.equals(categories[0]) for other in categories):
            union = sorted(set().union(*categories))
            for frame in frames:
                frame[name] = frame[name].cat.set_categories(union)
    return pd.concat(frames, ignore_index=True)


def list_months(
    path: str | os.PathLike[str],
    *,
    progress: bool = False,
    on_read: Callable[[int], None] | None = None,
) -> list[str]:
    """The snapshot dates in a file (ISO, sorted), reading only its ``fecha_dato`` column;
    ``progress`` and ``on_read`` report the bytes read as `read_snapshots` does."""
    source = Path(path)
    compression = _COMPRESSION.get(source.suffix.lower())
    by_name = _require_columns(source, _read_header(source, compression))
    seen: set[str] = set()
    with _counted(source, f"{source.name} (months)", _Progress(progress, on_read)) as handle:
        try:
            chunks = pd.read_csv(
                handle,
                usecols=[by_name["fecha_dato"]],
                dtype=str,
                keep_default_na=False,
                compression=compression,
                encoding="utf-8-sig",
                encoding_errors="replace",
                chunksize=2_000_000,
            )
            with chunks:
                for chunk in chunks:
                    seen.update(chunk.iloc[:, 0].unique())
        except (pd.errors.ParserError, EOFError, OSError, zipfile.BadZipFile) as exc:
            raise ValueError(f"{source}: cannot parse as CSV: {_one_line(exc)}") from exc
    return sorted({date for value in seen if (date := _iso_date(str(value)))})
