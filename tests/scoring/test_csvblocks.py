"""The block reader finds the fields Python's csv module finds, with their line numbers."""

from __future__ import annotations

import csv
import io
import random

import pytest

from bankreco.scoring.csvblocks import CsvError, read_blocks, split_header


def fields(text: bytes, block_bytes: int, limit: int | None = None) -> list[tuple[int, list[str]]]:
    """(line, cells) of every row, and (line, ["<n fields>"]) of every malformed one."""
    stream = io.BytesIO(text)
    names, pending = split_header(stream)
    found = []
    for block in read_blocks(
        stream, len(names), range(len(names)), pending=pending, block_bytes=block_bytes, limit=limit
    ):
        for row in range(block.rows):
            cells = []
            for column in range(len(names)):
                raw = bytes(block.data[block.starts[row, column] : block.ends[row, column]])
                value = raw.decode()
                if len(value) >= 2 and value[0] == value[-1] == '"':
                    value = value[1:-1].replace('""', '"')
                cells.append(value)
            found.append((int(block.lines[row]), cells))
        found += [(line, [f"<{count} fields>"]) for line, count, _ in block.malformed]
    return sorted(found)


def test_random_files_read_as_the_csv_module_reads_them() -> None:
    rng = random.Random(7)
    alphabet = ["a", "b", ",", '"', "\n", " ", "Ñ", "\r\n", "x1"]
    for _ in range(400):
        rows = [
            ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 4))) for _ in range(3)]
            for _ in range(rng.randint(0, 8))
        ]
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator=rng.choice(["\n", "\r\n"]))
        writer.writerow(["x", "y", "z"])
        writer.writerows(rows)
        text = buffer.getvalue()
        if rng.random() < 0.3:
            text = text.rstrip("\r\n")
        got = fields(text.encode(), rng.choice([1, 5, 64, 1 << 20]))
        assert [cells for _, cells in got] == rows, repr(text)
        expected_lines, line = [], 2
        for row in rows:
            expected_lines.append(line)
            line += sum(cell.count("\n") for cell in row) + 1
        assert [line for line, _ in got] == expected_lines, repr(text)


def test_malformed_and_blank_lines() -> None:
    text = b"a,b\n1,2\n\n1,2,3\r\n4\n5,6"
    assert fields(text, 1 << 20) == [
        (2, ["1", "2"]),
        (4, ["<3 fields>"]),
        (5, ["<1 fields>"]),
        (6, ["5", "6"]),
    ]


def test_header_with_a_byte_order_mark_and_quotes() -> None:
    names, pending = split_header(io.BytesIO('\ufeff"a",b ,"c,d"\r\n1,2,3\n'.encode()))
    assert names == ["a", "b ", "c,d"]
    assert pending == b"1,2,3\n"


@pytest.mark.parametrize("text", [b"", b"\n\n", b","])
def test_no_header(text: bytes) -> None:
    with pytest.raises(CsvError):
        split_header(io.BytesIO(text))


def test_limit_reads_only_the_rows_that_start_before_it() -> None:
    body = b"".join(b"%d,x\n" % i for i in range(100))
    text = b"n,v\n" + body
    limit = body.index(b"50,x")
    for block_bytes in (7, 64, 1 << 20):
        got = fields(text, block_bytes, limit=limit)
        assert [cells[0] for _, cells in got] == [str(i) for i in range(50)]
        got = fields(text, block_bytes, limit=limit + 1)  # row 50 starts before the limit
        assert [cells[0] for _, cells in got][-1] == "50"


def test_unterminated_quote_at_the_end() -> None:
    got = fields(b'a,b\n1,"2\n3', 1 << 20)
    assert got == [(2, ["1", "2\n3"])]
