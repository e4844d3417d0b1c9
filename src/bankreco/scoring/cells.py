"""What a CSV cell says, as the JSON value the API would be sent for it.

The API validates JSON; a CSV cell is text. Every cell is read as one JSON value, then checked
by the API's own rules (`bankreco.api.schemas.CustomerProfile`):

- surrounding spaces are dropped (the Kaggle export pads numbers: ` 35`, `     NA`);
- an empty cell, or exactly `NA`, is null: unknown (a valid `renta`, a refused `age`). A
  resident of Namibia is written `na` (any letter case is accepted for a country);
- in the number fields (`age`, `antiguedad`, `renta`, `ind_actividad_cliente`) a cell that
  reads as a finite number is that number (`35`, `35.0`, `1.0`, `87218.1`); any other text
  stays text and is refused as the API refuses a string there;
- in the text fields the cell is a string (`H`, `02 - PARTICULARES`, a customer id);
- `owned_products` is a list of the product codes separated by spaces; an empty cell is the
  empty list (the customer holds none), `NA` is null (unknown).

The Kaggle export's own quirks are read as its reader reads them: a province written in UTF-8
but read as a single-byte code page (`CORUÃ‘A, A`), or the other way round (`CORU�A, A`), is
the province it was; `fecha_dato` may be a spreadsheet date (`5/28/2016`).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any, Final

from bankreco.api import vocabulary
from bankreco.catalog import PROVINCES, fold

NULL: Final = "NA"
NUMBER_FIELDS: Final = frozenset({"age", "antiguedad", "renta", "ind_actividad_cliente"})
LIST_FIELDS: Final = frozenset({"owned_products"})

_ISO_DATE: Final = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T][\d:.]*)?")
_SHEET_DATE: Final = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4}|\d{2})(?: [\d:.]*(?: ?[AP]M)?)?")
_YEAR_MONTH: Final = re.compile(r"(\d{4})-(\d{1,2})")


def decode(raw: bytes) -> str:
    """A field's bytes as text: UTF-8 (bad bytes replaced), the quotes of a quoted field
    dropped and its doubled quotes undone."""
    text = raw.decode("utf-8", errors="replace")
    if len(text) >= 2 and text[0] == '"' and text[-1] == '"':
        text = text[1:-1].replace('""', '"')
    return text


def json_value(field: str, text: str) -> Any:
    """The JSON value a cell of `field` stands for (the module's rules)."""
    value = text.strip()
    if field in LIST_FIELDS:
        return None if value == NULL else value.split()
    if value in ("", NULL):
        return None
    if field in NUMBER_FIELDS:
        try:
            number = float(value)
        except ValueError:
            return value
        return number if math.isfinite(number) else value
    return value


def number(text: str) -> float | None:
    """A cell read as a number field is (None: null, or text that is no number)."""
    value = json_value("age", text)
    return value if isinstance(value, float) else None


def province_text(text: str) -> str:
    """A Kaggle file's province cell with its decoding repaired: the text itself when the API
    accepts it or it cannot be repaired, else the province it was written as."""
    value = text.strip()
    if value.isascii() or vocabulary.province(value) is not None:
        return value
    for codec in ("cp1252", "latin-1"):  # UTF-8 read as a single-byte code page
        try:
            repaired = value.encode(codec).decode("utf-8")
        except UnicodeError:
            continue
        if vocabulary.province(repaired) is not None:
            return repaired
    if "\ufffd" in value:  # a single-byte file decoded as UTF-8
        pattern = re.compile(re.escape(fold(value)).replace("\ufffd", "."))
        hits = [name for name in PROVINCES if pattern.fullmatch(fold(name))]
        if len(hits) == 1:
            return hits[0]
    return value


def row_month(text: str) -> str | None:
    """`YYYY-MM` of a `fecha_dato` cell (an ISO date, or a spreadsheet's `M/D/YYYY`, day
    first where the month cannot be one), or None."""
    value = text.strip()
    if match := _ISO_DATE.fullmatch(value):
        year, month, day = (int(part) for part in match.groups())
    elif match := _SHEET_DATE.fullmatch(value):
        month, day, year = (int(part) for part in match.groups())
        year += 2000 if year < 100 else 0
        if month > 12 >= day:
            month, day = day, month
    else:
        return None
    try:
        return dt.date(year, month, day).isoformat()[:7]
    except ValueError:
        return None


def month_of(text: str) -> str:
    """`YYYY-MM` of a month given as `2016-05`, `2016-05-28` or `5/28/2016`; ValueError
    otherwise."""
    value = text.strip()
    if match := _YEAR_MONTH.fullmatch(value):
        year, month = int(match[1]), int(match[2])
        if 1 <= month <= 12:
            return f"{year:04d}-{month:02d}"
    found = row_month(value)
    if found is None:
        raise ValueError(f"{text!r} is not a month: write it as 2016-05 or 2016-05-28")
    return found


def previous_month(month: str) -> str:
    """The `YYYY-MM` before `month`."""
    year, number = int(month[:4]), int(month[5:7])
    return f"{year - 1:04d}-12" if number == 1 else f"{year:04d}-{number - 1:02d}"
