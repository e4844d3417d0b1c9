"""A column of a block read without a Python object per row: the distinct values of a column
found with numpy keys, and numbers parsed from their digits.

Most profile columns hold few distinct values (two sexes, 52 provinces, a few hundred ages):
each distinct value is read and checked once (`Table`), and its verdict reaches every row
through an index. Columns with a value per customer (income, ids) are parsed digit by digit
over a byte matrix (`numbers`); a cell outside the common forms is handed back to be read
one by one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final, Generic, TypeVar

import numpy as np
import numpy.typing as npt

from bankreco.scoring.csvblocks import Block, Ints

T = TypeVar("T")
Words = npt.NDArray[np.uint64]

#: MASK[n] keeps the first n bytes of an 8-byte window.
MASK: Final = np.array([(1 << (8 * n)) - 1 for n in range(8)] + [2**64 - 1], dtype=np.uint64)
_MIX: Final = np.array(
    [0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0x27D4EB2F165667C5],
    dtype=np.uint64,
)
MAX_ENTRIES: Final = 50_000  # a table that grows past this starts again (memory stays bounded)
NUMBER_WIDTH: Final = 16  # bytes of a number read digit by digit; longer ones one by one


def span(block: Block, column: int) -> tuple[Ints, Ints]:
    """Starts and ends of column `column` (a position of the block's wanted columns)."""
    return block.starts[:, column], block.ends[:, column]


def raw(block: Block, start: int, end: int) -> bytes:
    return bytes(block.data[start:end])


def gather(block: Block, starts: Ints, ends: Ints, width: int) -> npt.NDArray[np.uint8]:
    """The first `width` bytes of each span as an (n, width) matrix, zeros past its end."""
    words = -(-width // 8)
    window = block.window()
    matrix = np.empty((len(starts), words), dtype=np.uint64)
    for j in range(words):
        matrix[:, j] = window[np.minimum(starts + 8 * j, len(window) - 1)]
    out = matrix.view(np.uint8)[:, :width].copy()
    out[np.arange(width) >= (ends - starts)[:, None]] = 0
    return out


class Table(Generic[T]):
    """The distinct values of one column across blocks, each read by `read` (its bytes) once.

    A value of up to 8 x `words` bytes is found by a key made of its words and length, then
    checked byte for byte against the value the key was made from; longer values, and the
    (astronomically rare) key collisions, are read row by row through a dictionary.
    """

    def __init__(self, words: int, read: Callable[[bytes], T]) -> None:
        self.words = words
        self.read = read
        self._clear()

    def _clear(self) -> None:
        self.results: list[T] = []
        self._keys = np.empty(0, dtype=np.uint64)  # sorted
        self._entry = np.empty(0, dtype=np.int64)  # result index of each key
        self._length = np.empty(0, dtype=np.int64)  # by result index
        self._stored = np.empty((0, self.words), dtype=np.uint64)  # by result index
        self._by_bytes: dict[bytes, int] = {}
        self._arrays: dict[str, npt.NDArray[Any]] = {}

    def codes(self, block: Block, starts: Ints, ends: Ints) -> Ints:
        """The result index of every row's value."""
        if len(self.results) > MAX_ENTRIES:
            self._clear()
        length = ends - starts
        words = self._words(block, starts, length)
        key = self._key(words, length)
        code = self._lookup(key)
        missing = code < 0
        if missing.any():
            self._add(block, starts, ends, key, missing)
            code = self._lookup(key)
        safe = np.maximum(code, 0)
        same = (self._length[safe] == length) & (self._stored[safe] == words).all(axis=1)
        odd = ~same | (length > 8 * self.words)
        for row in np.flatnonzero(odd).tolist():
            code[row] = self._one(raw(block, int(starts[row]), int(ends[row])))
        return code

    def array(self, name: str, make: Callable[[list[T]], npt.NDArray[Any]]) -> npt.NDArray[Any]:
        """`make(results)`, made again only when the table has grown."""
        found = self._arrays.get(name)
        if found is None or len(found) != len(self.results):
            found = self._arrays[name] = make(self.results)
        return found

    def _words(self, block: Block, starts: Ints, length: Ints) -> Words:
        window = block.window()
        words = np.empty((len(starts), self.words), dtype=np.uint64)
        for j in range(self.words):
            left = np.clip(length - 8 * j, 0, 8)
            words[:, j] = window[np.minimum(starts + 8 * j, len(window) - 1)] & MASK[left]
        return words

    def _key(self, words: Words, length: Ints) -> Words:
        key: Words = length.astype(np.uint64) * _MIX[3]
        for j in range(self.words):
            key ^= words[:, j] * _MIX[j % 3]
            key = (key << np.uint64(29)) | (key >> np.uint64(35))
        return key

    def _lookup(self, key: Words) -> Ints:
        if len(self._keys) == 0:
            return np.full(len(key), -1, dtype=np.int64)
        at = np.minimum(np.searchsorted(self._keys, key), len(self._keys) - 1)
        return np.where(self._keys[at] == key, self._entry[at], -1)

    def _add(
        self, block: Block, starts: Ints, ends: Ints, key: Words, missing: npt.NDArray[np.bool_]
    ) -> None:
        new, first = np.unique(key[missing], return_index=True)
        rows = np.flatnonzero(missing)[first]
        entries = np.arange(len(self.results), len(self.results) + len(rows))
        for row in rows.tolist():
            self.results.append(self.read(raw(block, int(starts[row]), int(ends[row]))))
        length = ends[rows] - starts[rows]
        self._length = np.concatenate([self._length, length])
        self._stored = np.concatenate([self._stored, self._words(block, starts[rows], length)])
        keys = np.concatenate([self._keys, new])
        order = np.argsort(keys, kind="stable")
        self._keys, self._entry = keys[order], np.concatenate([self._entry, entries])[order]

    def _one(self, text: bytes) -> int:
        """The result index of a value read on its own (kept apart from the keys)."""
        found = self._by_bytes.get(text)
        if found is None:
            found = self._by_bytes[text] = len(self.results)
            self.results.append(self.read(text))
            self._length = np.append(self._length, -1)  # matches no row's key
            self._stored = np.concatenate([self._stored, np.zeros((1, self.words), np.uint64)])
        return found


def numbers(block: Block, starts: Ints, ends: Ints) -> tuple[npt.NDArray[np.float64], Ints]:
    """The number in each span (NaN for a null cell: empty, spaces or NA), and the rows
    (indexes) the common form does not cover, to be read one by one. The common form: spaces,
    an optional `-`, digits with at most one `.`, spaces, in quotes or not, up to 15 digits,
    read as the digits' integer over a power of ten: the double nearest the decimal, as
    float() gives."""
    quoted = (block.data[starts] == ord('"')) & (ends - starts >= 2)
    quoted &= block.data[np.maximum(ends - 1, 0)] == ord('"')
    starts, ends = starts + quoted, ends - quoted
    length = ends - starts
    width = int(min(NUMBER_WIDTH, max(int(length.max(initial=0)), 1)))  # the longest read
    matrix = gather(block, starts, ends, width)
    body = (matrix != ord(" ")) & (np.arange(width) < length[:, None])
    rows = np.arange(len(starts))
    first = np.argmax(body, axis=1)
    last = width - 1 - np.argmax(body[:, ::-1], axis=1)
    negative = matrix[rows, first] == ord("-")
    whole = np.zeros(len(starts), dtype=np.int64)
    after = np.zeros(len(starts), dtype=np.int64)
    digits, dots, others = whole.copy(), whole.copy(), whole.copy()
    for j in range(width):
        column, inside = matrix[:, j], body[:, j]
        digit = inside & (column >= ord("0")) & (column <= ord("9"))
        dot = inside & (column == ord("."))
        whole = np.where(digit, whole * 10 + (column.astype(np.int64) - ord("0")), whole)
        dots += dot
        after += digit & (dots > 0)
        digits += digit
        others += inside & ~digit & ~dot
    has = body.any(axis=1)
    null = ~has | ((last - first == 1) & (matrix[rows, first] == ord("N")))
    null &= ~has | (matrix[rows, np.minimum(first + 1, width - 1)] == ord("A"))
    good = has & (body.sum(axis=1) == last - first + 1) & (others == negative) & (dots <= 1)
    good &= (digits >= 1) & (digits <= 15) & (length <= NUMBER_WIDTH)
    values = whole.astype(np.float64) / 10.0 ** after.astype(np.float64)
    values[negative] *= -1.0
    values[null] = np.nan
    return values, np.flatnonzero(~good & ~null)
