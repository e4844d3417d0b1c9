"""Read Santander-format snapshot CSVs (``train_ver2.csv``, ``test_ver2.csv``) into a compact frame.

The reader streams the file in chunks, keeps only the columns the model uses and the requested
months, and cleans every value with vectorised operations (or a lookup over a column's few
distinct values). Bad profile values become NaN; only rows without a usable ``fecha_dato`` or
``ncodpers`` are dropped, and they are counted by reason.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import warnings
import zipfile
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Final, Literal, cast

import numpy as np
import numpy.typing as npt
import pandas as pd
from tqdm import tqdm
from tqdm.utils import CallbackIOWrapper

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
_MONTH: Final = re.compile(r"(\d{4})-(\d{1,2})")
_COUNTRY: Final = re.compile(r"[A-Z]{2}")
_MAX_EXACT_ID: Final = 2.0**53


@dataclass
class ReadResult:
    """A cleaned frame, the rows dropped by reason, and the number of data rows in the file."""

    frame: pd.DataFrame
    dropped: dict[str, int]
    rows_read: int


def read_snapshots(
    path: str | os.PathLike[str],
    months: Sequence[str] | None = None,
    *,
    chunksize: int = 500_000,
    progress: bool = False,
) -> ReadResult:
    """Read a Santander-format CSV (plain or .gz/.bz2/.zip/.xz/.zst), keeping only ``months``.

    ``months`` are ISO dates (``2016-05-28``) or months (``2016-05``), matched by year and month
    against ``fecha_dato`` in either ISO or spreadsheet (``5/28/2016``) form; None keeps all.
    The frame has ``fecha_dato`` (category of ISO dates), ``ncodpers`` (int64), the nine model
    profile fields (category, float32, or float64 for renta; NaN when missing or invalid; a
    profile column absent from the file is all NaN, with a warning) and the product flags
    present in the file (float32 0/1). ``rows_read`` counts every data row of the file,
    whatever its month.

    Raises ValueError when the file is empty, is not a CSV, or lacks fecha_dato/ncodpers.
    """
    if chunksize < 1:
        raise ValueError(f"chunksize must be positive, got {chunksize}")
    month_keys = None if months is None else _month_keys(months)
    source = Path(path)
    compression = _COMPRESSION.get(source.suffix.lower())
    rename = _columns_to_read(source, _read_header(source, compression))
    plan = _Plan(
        source=source,
        compression=compression,
        rename=rename,
        products=tuple(code for code in PRODUCT_CODES if code in rename.values()),
        month_keys=month_keys,
    )
    dropped: Counter[str] = Counter()
    frames, rows_read = _read_frames(plan, dropped, chunksize, progress)
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
    )


@dataclass(frozen=True)
class _Plan:
    """What to read from a file: which columns, under which names, and which months."""

    source: Path
    compression: _Compression | None
    rename: dict[str, str]  # the file's name of each column read -> its canonical name
    products: tuple[str, ...]  # the product flags present in the file
    month_keys: frozenset[str] | None  # ``YYYY-MM`` of the months kept; None keeps all


def _columns_to_read(source: Path, header: list[str]) -> dict[str, str]:
    """The file's name of each column the reader keeps, mapped to its canonical name.

    Raises ValueError when fecha_dato or ncodpers is missing; warns about missing profile
    columns, which are read as missing values.
    """
    by_name = {name.strip().lower(): name for name in header}
    missing = [name for name in REQUIRED_COLUMNS if name not in by_name]
    if missing:
        raise ValueError(
            f"{source}: header lacks required column(s) {', '.join(missing)}; "
            f"found {', '.join(header[:10]) or 'none'}"
        )
    absent = [name for name in MODEL_PROFILE_COLUMNS if name not in by_name]
    if absent:
        warnings.warn(
            f"{source}: no column(s) {', '.join(absent)}; they are read as missing",
            stacklevel=3,  # the caller of read_snapshots
        )
    wanted = REQUIRED_COLUMNS + MODEL_PROFILE_COLUMNS + PRODUCT_CODES
    return {by_name[name]: name for name in wanted if name in by_name}


def _read_frames(
    plan: _Plan, dropped: Counter[str], chunksize: int, progress: bool
) -> tuple[list[pd.DataFrame], int]:
    """The cleaned chunks that have rows (or the first chunk, if none has) and the number of
    data rows in the file; counts the rows dropped by reason in ``dropped``."""
    frames: list[pd.DataFrame] = []
    empty: pd.DataFrame | None = None
    rows_read = 0
    with (
        plan.source.open("rb") as raw,
        tqdm(
            total=plan.source.stat().st_size,
            unit="B",
            unit_scale=True,
            unit_divisor=1024,
            desc=plan.source.name,
            disable=not progress,
        ) as bar,
    ):
        handle = cast(IO[bytes], CallbackIOWrapper(bar.update, raw, "read")) if progress else raw
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
        except (pd.errors.ParserError, EOFError) as exc:
            raise ValueError(
                f"{plan.source}: cannot parse as CSV after {rows_read} rows: {exc}"
            ) from exc
    if not frames and empty is not None:
        frames = [empty]
    return frames, rows_read


def _blank(rename: dict[str, str]) -> pd.DataFrame:
    """A chunk without rows, for files without data rows."""
    return pd.DataFrame({name: pd.Series([], dtype="str") for name in rename.values()})


def _read_header(source: Path, compression: _Compression | None) -> list[str]:
    """The column names of ``source``, or a ValueError for an empty or non-CSV file."""
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
        if isinstance(exc, FileNotFoundError | PermissionError | IsADirectoryError):
            raise
        raise ValueError(f"{source} is not a readable CSV file: {exc}") from exc
    return [str(name) for name in head.columns]


def _month_keys(months: Sequence[str]) -> frozenset[str]:
    """``YYYY-MM`` keys of the requested months; ValueError for anything else."""
    if isinstance(months, str):
        months = [months]
    keys = set()
    for month in months:
        iso = _iso_date(month)
        match = _MONTH.fullmatch(month.strip())
        if iso is not None:
            keys.add(iso[:7])
        elif match and 1 <= int(match[2]) <= 12:
            keys.add(f"{int(match[1]):04d}-{int(match[2]):02d}")
        else:
            raise ValueError(f"month {month!r} is not an ISO date like 2016-05-28")
    return frozenset(keys)


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


def list_months(path: str | os.PathLike[str]) -> list[str]:
    """The snapshot dates in a file (ISO, sorted), reading only its ``fecha_dato`` column."""
    source = Path(path)
    compression = _COMPRESSION.get(source.suffix.lower())
    by_name = {name.strip().lower(): name for name in _read_header(source, compression)}
    if "fecha_dato" not in by_name:
        raise ValueError(f"{source}: header lacks required column fecha_dato")
    seen: set[str] = set()
    chunks = pd.read_csv(
        source,
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
    return sorted({date for value in seen if (date := _iso_date(str(value)))})
