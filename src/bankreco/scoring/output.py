"""The recommendations as CSV text, built for a whole block at once with numpy.

Each row is laid out in a byte matrix, every field in a slot of fixed width padded with zero
bytes (no CSV text holds one: ids with control characters are refused), and the padding is
then dropped in one pass. Two formats:

- `wide`: `<id>,model_version,product_1,score_1,...,product_k,score_k`, scores with 6
  decimals as the API rounds them; a customer holding all but j products has j filled;
  explained (`bankreco score --explain`), a `reasons_i` column after each `score_i`: the
  product's reasons, CSV-quoted when they hold a comma or a quote;
- `kaggle`: the competition's submission, `ncodpers,added_products`, the codes separated by
  spaces, best first.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from typing import Final, TextIO

import numpy as np
import numpy.typing as npt

from bankreco.catalog import PRODUCT_CODES
from bankreco.scoring.checks import Reject
from bankreco.scoring.rank import Ranking

WIDE: Final = "wide"
KAGGLE: Final = "kaggle"
FORMATS: Final = (WIDE, KAGGLE)
REJECT_COLUMNS: Final = ("line", "field", "reason", "value")
Matrix = npt.NDArray[np.uint8]

_CODE_WIDTH: Final = max(map(len, PRODUCT_CODES))
_CODES: Final = np.zeros((len(PRODUCT_CODES), _CODE_WIDTH), dtype=np.uint8)
for _i, _code in enumerate(PRODUCT_CODES):
    _CODES[_i, : len(_code)] = np.frombuffer(_code.encode(), dtype=np.uint8)
_POWERS: Final = 10 ** np.arange(19, -1, -1, dtype=np.uint64)


def header(form: str, id_name: str, top_k: int, explain: bool = False) -> bytes:
    """The header line of an output of format `form` (wide: with reasons if `explain`)."""
    if form == KAGGLE:
        return f"{id_name},added_products\n".encode()
    reasons = ",reasons_{i}" if explain else ""
    pairs = ",".join(f"product_{i},score_{i}{reasons.format(i=i)}" for i in range(1, top_k + 1))
    return f"{id_name},model_version,{pairs}\n".encode()


def integers(values: npt.NDArray[np.int64]) -> Matrix:
    """Whole numbers >= 0 as decimal text: (n, 20) bytes, right-aligned, zero-padded."""
    numbers = values.astype(np.uint64)
    digits = (numbers[:, None] // _POWERS) % np.uint64(10)
    text = (digits + ord("0")).astype(np.uint8)
    leading = np.cumsum(digits, axis=1) == 0
    leading[:, -1] = False  # 0 is written "0"
    text[leading] = 0
    return text


def _scores(scores: npt.NDArray[np.float64]) -> Matrix:
    """Scores in [0, 1] as `d.dddddd`: (n, k, 8) bytes."""
    millionths = np.rint(np.clip(scores, 0.0, 1.0) * 1e6).astype(np.int64)
    out = np.empty((*scores.shape, 8), dtype=np.uint8)
    out[..., 0] = ord("0") + millionths // 1_000_000
    out[..., 1] = ord(".")
    for i in range(6):
        out[..., 2 + i] = ord("0") + (millionths // 10 ** (5 - i)) % 10
    return out


def _const(rows: int, text: bytes) -> Matrix:
    return np.broadcast_to(np.frombuffer(text, dtype=np.uint8), (rows, len(text)))


def _squeeze(pieces: list[Matrix]) -> bytes:
    """The rows of the concatenated pieces, their zero padding dropped."""
    matrix = np.concatenate(pieces, axis=1)
    return bytes(matrix[matrix != 0].tobytes())


def _cells(texts: Sequence[Sequence[str]], top_k: int) -> Matrix:
    """Each customer's texts as CSV fields, the missing ones empty: (n, top_k, width) bytes."""
    fields = [_quoted(row[j]) if j < len(row) else b"" for row in texts for j in range(top_k)]
    flat = np.array(fields, dtype=np.bytes_)  # padded with zero bytes to the longest
    return flat.view(np.uint8).reshape(len(texts), top_k, flat.itemsize)


def _quoted(text: str) -> bytes:
    """`text` as a CSV field: quoted, its quotes doubled, when it holds , " or a newline."""
    if any(c in text for c in ',"\r\n'):
        text = '"' + text.replace('"', '""') + '"'
    return text.encode()


def rows(
    form: str,
    ids: Matrix,
    version: str,
    ranking: Ranking,
    reasons: Sequence[Sequence[str]] | None = None,
) -> bytes:
    """The output lines of customers with ids `ids` (id text, zero-padded) and `ranking`;
    in the wide format, with `reasons` (per customer, per product kept) if given."""
    n, top_k = ranking.products.shape
    filled = np.arange(top_k) < ranking.counts[:, None]  # (n, k)
    codes = _CODES[ranking.products] * filled[:, :, None]
    if form == KAGGLE:
        pieces = [ids, _const(n, b",")]
        for j in range(top_k):
            space = _const(n, b" ") * filled[:, j : j + 1] if j else _const(n, b"")
            pieces += [space, codes[:, j]]
        return _squeeze([*pieces, _const(n, b"\n")])
    scores = _scores(ranking.scores) * filled[:, :, None]
    texts = None if reasons is None else _cells(reasons, top_k)
    pieces = [ids, _const(n, f",{version}".encode())]
    for j in range(top_k):
        pieces += [_const(n, b","), codes[:, j], _const(n, b","), scores[:, j]]
        if texts is not None:
            pieces += [_const(n, b","), texts[:, j]]
    return _squeeze([*pieces, _const(n, b"\n")])


class RejectsWriter:
    """The rejects file: one line per failing field of a rejected row."""

    def __init__(self, stream: TextIO) -> None:
        self._writer = csv.writer(stream, lineterminator="\n")
        self._writer.writerow(REJECT_COLUMNS)

    def write(self, rejects: Iterable[Reject]) -> None:
        self._writer.writerows(rejects)
