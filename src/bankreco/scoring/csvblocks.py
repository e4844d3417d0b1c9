"""A CSV stream as blocks of whole records, and every field of a block as a byte span.

A block is about a megabyte of the stream cut after a record. Its fields are found with a few
numpy passes over its bytes (commas and line ends, minus those between a pair of quotes), so
no Python object is made per row or per field; the checks then read the spans. Quoting is
RFC 4180's: a quoted field may hold commas, line breaks and doubled quotes. A line break ends a
record only outside quotes; CR LF line ends and blank lines are accepted.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import BinaryIO, Final

import numpy as np
import numpy.typing as npt

COMMA: Final = ord(",")
NEWLINE: Final = ord("\n")
QUOTE: Final = ord('"')
RETURN: Final = ord("\r")
PAD: Final = 40  # zero bytes after a block's own: an 8-byte window read at any field is safe
BLOCK_BYTES: Final = 1 << 20  # a megabyte keeps each pass's arrays in the CPU's caches
MAX_HEADER_BYTES: Final = 1 << 20

Ints = npt.NDArray[np.int64]
Bytes = npt.NDArray[np.uint8]


class CsvError(ValueError):
    """The stream is not a CSV this reader can read (no header line, say)."""


@dataclass
class Block:
    """Rows of a CSV stream: the block's bytes, and for every row the span of each wanted
    column (`starts`, `ends`: byte positions in `data`), its line in the file and its byte
    offset in the stream. Rows with another number of fields are in `malformed` as (line,
    fields, offset)."""

    data: Bytes  # the block's bytes followed by PAD zero bytes
    starts: Ints  # (rows, wanted)
    ends: Ints  # (rows, wanted), exclusive
    lines: Ints  # (rows,)
    offsets: Ints  # (rows,) of each row's first byte, from the stream's start
    malformed: list[tuple[int, int, int]] = field(default_factory=list)
    first_line: int = 0  # the line of data[0]
    next_line: int = 0  # the line after the block's last record
    offset: int = 0  # the stream offset of data[0]

    @property
    def rows(self) -> int:
        return len(self.lines)

    def select(self, rows: npt.NDArray[np.bool_]) -> Block:
        """The rows of `rows` (a mask), with the same bytes; no malformed rows."""
        return Block(
            self.data, self.starts[rows], self.ends[rows], self.lines[rows], self.offsets[rows]
        )  # no next_line: a selection is checked, never read on from

    def window(self) -> npt.NDArray[np.uint64]:
        """`window()[i]` is the 8 bytes from position i as one little-endian number (an
        unaligned, overlapping view: no copy)."""
        count = len(self.data) - 7
        return np.ndarray((count,), dtype="<u8", buffer=self.data, offset=0, strides=(1,))


def split_header(stream: BinaryIO) -> tuple[list[str], bytes]:
    """The column names of the stream's first line (UTF-8, with or without a byte-order
    mark) and the bytes read past it."""
    data = b""
    while True:
        end = _first_record_end(data)
        if end >= 0:
            break
        chunk = stream.read(64 * 1024)
        if not chunk or len(data) > MAX_HEADER_BYTES:
            if data.strip():
                end = len(data)
                break
            raise CsvError("the file is empty: expected a CSV with a header line")
        data += chunk
    text = data[:end].decode("utf-8-sig", errors="replace").rstrip("\r\n")
    names = next(csv.reader(io.StringIO(text)), [])
    if not [name for name in names if name.strip()]:
        raise CsvError("the first line is not a CSV header")
    return names, data[end + 1 :]


def _first_record_end(data: bytes) -> int:
    """The position of the first line break of `data` outside quotes, or -1."""
    position = data.find(b"\n")
    while position >= 0 and data.count(b'"', 0, position) % 2:
        position = data.find(b"\n", position + 1)
    return position


def read_blocks(
    stream: BinaryIO,
    columns: int,
    wanted: Sequence[int],
    *,
    pending: bytes = b"",
    first_line: int = 2,
    limit: int | None = None,
    block_bytes: int = BLOCK_BYTES,
) -> Iterator[Block]:
    """The records of `stream` (after `pending`, bytes already read from it) in blocks, with
    the spans of the `wanted` columns of a file of `columns` columns. Rows whose first byte
    is at or past `limit` (from the start of `pending`) are not read."""
    wanted_index = np.asarray(wanted, dtype=np.int64)
    data, offset, line = pending, 0, first_line
    while True:
        chunk = stream.read(block_bytes)
        data += chunk
        if not chunk:
            if not data.strip(b"\r\n"):
                return
            if data.count(b'"') % 2:
                data += b'"'  # an unterminated quote closes at the end of the stream
            data += b"" if data.endswith(b"\n") else b"\n"
        size = data.rfind(b"\n") + 1
        if size == 0:
            continue  # a record longer than a block: read on
        block, used, breaks = _block(data, size, columns, wanted_index, line, offset)
        if used == 0 and chunk:
            continue  # the line breaks read so far are all inside quotes
        line, offset, data = line + breaks, offset + used, data[used:]
        if limit is not None and offset >= limit:
            yield _before(block, limit)
            return
        yield block
        if not chunk:
            return


def _before(block: Block, limit: int) -> Block:
    """The rows of `block` that start before `limit`; its next line is the first line that
    starts at or after `limit`."""
    keep = block.offsets < limit
    malformed = [m for m in block.malformed if m[2] < limit]
    end = limit - block.offset  # lines starting before `end` are the block's
    breaks = int(np.count_nonzero(block.data[: max(end - 1, 0)] == NEWLINE))
    next_line = block.first_line + (1 + breaks if end > 0 else 0)
    return Block(
        block.data,
        block.starts[keep],
        block.ends[keep],
        block.lines[keep],
        block.offsets[keep],
        malformed,
        block.first_line,
        min(next_line, block.next_line),
        block.offset,
    )


def _block(
    text: bytes, size: int, columns: int, wanted: Ints, first_line: int, offset: int
) -> tuple[Block, int, int]:
    """The whole records of `text[:size]` (which ends with a line break) as a block, the
    bytes they take and the line breaks they hold."""
    data = np.zeros(size + PAD, dtype=np.uint8)
    data[:size] = np.frombuffer(text, dtype=np.uint8, count=size)
    pos = _delimiters(data[:size])
    last = np.flatnonzero(data[pos] == NEWLINE)  # each record's last field, as an index of pos
    if len(last) == 0:
        nothing = _empty(len(wanted))
        return Block(data, *nothing, first_line=first_line, next_line=first_line), 0, 0
    pos = pos[: last[-1] + 1]  # what follows the last record end is an unfinished record
    used = int(pos[-1]) + 1
    fields = np.diff(last, prepend=-1)
    row_start = np.zeros(len(last), dtype=np.int64)
    row_start[1:] = pos[last[:-1]] + 1
    breaks = int(np.count_nonzero(data[:used] == NEWLINE))
    lines = _lines(data[:used], row_start, breaks, first_line)
    length = pos[last] - row_start
    blank = (fields == 1) & ((length == 0) | ((length == 1) & (data[row_start] == RETURN)))
    good = (fields == columns) & ~blank
    bad = ~good & ~blank
    malformed = list(
        zip(
            lines[bad].tolist(),
            fields[bad].tolist(),
            (row_start[bad] + offset).tolist(),
            strict=True,
        )
    )
    ends = (
        pos.reshape(-1, columns)
        if good.all()
        else pos[(last[good] - columns + 1)[:, None] + np.arange(columns)]
    )
    starts = np.where(wanted > 0, ends[:, np.maximum(wanted - 1, 0)] + 1, row_start[good][:, None])
    ends = ends[:, wanted]
    tail = wanted == columns - 1  # a CR before the line break is not part of the last field
    if tail.any():
        cr = data[np.maximum(ends[:, tail] - 1, 0)] == RETURN
        ends[:, tail] -= cr & (ends[:, tail] > starts[:, tail])
    block = Block(
        data,
        starts,
        ends,
        lines[good],
        row_start[good] + offset,
        malformed,
        first_line,
        first_line + breaks,
        offset,
    )
    return block, used, breaks


def _empty(columns: int) -> tuple[Ints, Ints, Ints, Ints]:
    nothing = np.empty((0, columns), dtype=np.int64)
    return nothing, nothing, np.empty(0, np.int64), np.empty(0, np.int64)


def _delimiters(buf: Bytes) -> Ints:
    """Positions of the commas and line breaks of `buf` that are not between quotes."""
    found = buf == COMMA
    found |= buf == NEWLINE
    pos = np.flatnonzero(found)
    quotes = np.flatnonzero(buf == QUOTE)
    if len(quotes) == 0:
        return pos
    opened, closed = quotes[0::2], quotes[1::2]
    if len(closed) < len(opened):  # an unterminated quote runs to the end
        closed = np.append(closed, len(buf))
    lo, hi = np.searchsorted(pos, opened), np.searchsorted(pos, closed)
    inside = hi - lo
    some = inside > 0
    if not some.any():
        return pos
    lo, inside = lo[some], inside[some]
    first = np.repeat(lo - (np.cumsum(inside) - inside), inside)
    keep = np.ones(len(pos), dtype=bool)
    keep[first + np.arange(int(inside.sum()))] = False
    return pos[keep]


def _lines(buf: Bytes, row_start: Ints, breaks: int, first_line: int) -> Ints:
    """The line number of each row: consecutive, unless a quoted field holds a line break."""
    if breaks == len(row_start):
        return first_line + np.arange(breaks, dtype=np.int64)
    positions = np.flatnonzero(buf == NEWLINE)
    return first_line + np.searchsorted(positions, row_start).astype(np.int64)
