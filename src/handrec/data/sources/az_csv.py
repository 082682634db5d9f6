"""The Kaggle "A-Z Handwritten Data" CSV: a label 0–25 (A–Z) then 784 pixels on every line.

The file has no header row: pandas' default `read_csv` takes the first letter for a header and
silently drops it. Here the first line counts as a header only when it is not all integers.
The text is cut into pieces of whole lines that numpy's C text parser (`np.fromstring`, which
releases the GIL) reads on all cores into uint16; each piece is checked, narrowed to uint8 and
copied straight into the result, so no int64/float copy of the whole set ever exists. It needs
less CPU than pyarrow's CSV reader, which builds 785 columns that must then be transposed, and
touches little fresh memory, which is what copies cost most here (benchmarks/bench_data.py).
A problem is located to its line by a pure-Python scan of the failing piece, which runs only
after the fast path has failed.
"""

from __future__ import annotations

import gzip
import logging
import os
import zipfile
import zlib
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from handrec.data.cache import Plan, file_identity
from handrec.data.dataset import Dataset
from handrec.errors import DataError
from handrec.labels import UPPERCASE, LabelSpace

log = logging.getLogger(__name__)

KAGGLE_PAGE = "https://www.kaggle.com/datasets/sachinpatel21/az-handwritten-alphabets-in-csv-format"
KAGGLE_COMMAND = "kaggle datasets download -d sachinpatel21/az-handwritten-alphabets-in-csv-format"
COLUMNS = 1 + 28 * 28
MAX_HEADER = 1 << 16
PIECE_BYTES = 8 << 20
"""Text parsed per task: measured fastest here, and small enough to keep memory lean."""
WORKERS = min(8, os.cpu_count() or 1)
BOM = b"\xef\xbb\xbf"  # what some editors put before the first line of a UTF-8 file
NEWLINE, RETURN, COMMA, SPACE = ord("\n"), ord("\r"), ord(","), ord(" ")
"""A blank line's end becomes a space, which `np.fromstring` skips before a number."""
_FORMAT = "expected 785 plain integers a line: a label 0–25 (A–Z), then 784 pixels 0–255"


@dataclass
class AzCsvSource:
    """The CSV as .csv, .csv.gz, or the .zip Kaggle serves."""

    path: str = "data/az-handwritten-alphabets-in-csv-format.zip"


def plan_az_csv(spec: AzCsvSource, cache: Path) -> Plan:
    """Letters A–Z in the label space "A…Z", read again when the file changes."""
    path = Path(spec.path).expanduser()
    if not path.is_file():
        raise DataError(
            f"{path} does not exist: download the A–Z CSV from {KAGGLE_PAGE} "
            f"(or run `{KAGGLE_COMMAND}`) and set data.sources.<key>.path to the .zip/.csv/.csv.gz"
        )
    return Plan("az_csv", [file_identity(path)], lambda: read_az_csv(path))


def read_az_csv(path: Path) -> Dataset:
    """Parse and check the whole file; any problem is a DataError naming the file and line."""
    try:
        labels, pixels = _parse(path)
    except (OSError, EOFError, zlib.error, zipfile.BadZipFile) as error:
        raise DataError(
            f"{path} cannot be read ({error}): if it is truncated or corrupt, download it again"
        ) from None
    if not len(labels):
        raise DataError(f"{path} holds no samples: {_FORMAT}")
    return Dataset(
        pixels.reshape(-1, 28, 28), labels.astype(np.int64), LabelSpace.from_names(UPPERCASE)
    )


def _parse(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Labels and [n, 784] pixels, from pieces of text parsed on all cores, kept in order.

    At most WORKERS + 1 pieces are in flight, and each is copied into the result as soon as it
    is done, so memory stays near the size of the result.
    """
    with _open(path) as (stream, size), ThreadPoolExecutor(WORKERS) as pool:
        first = stream.readline(MAX_HEADER).removeprefix(BOM)
        header = _is_header(first, path)
        rows = _Rows(size // (2 * COLUMNS) + 1, lines_before=int(header))
        pending: deque[Future[_Piece]] = deque()
        for start, block, cut in _pieces(stream, b"" if header else first):
            pending.append(pool.submit(_parse_piece, start, block, cut))
            while len(pending) > WORKERS or (pending and pending[0].done()):
                rows.add(pending.popleft(), path)
        for future in pending:
            rows.add(future, path)
    return rows.labels[: rows.count], rows.pixels[: rows.count]


@dataclass
class _Piece:
    labels: np.ndarray
    pixels: np.ndarray
    lines: int
    """Lines of text the piece held, blank ones included, to number the lines after it."""


class _BadLine(Exception):
    """A problem at a line counted from the start of its piece (1-based); None: not located."""

    def __init__(self, line: int | None, problem: str) -> None:
        super().__init__(problem)
        self.line = line
        self.problem = problem


class _Rows:
    """The result, filled piece by piece in file order.

    It is allocated once at an upper bound of the rows (pages never written cost no memory),
    because touching fresh memory is what a copy of the whole set costs most; it grows only
    when the bound was too low.
    """

    def __init__(self, capacity: int, lines_before: int) -> None:
        self.labels = np.empty(capacity, np.uint8)
        self.pixels = np.empty((capacity, COLUMNS - 1), np.uint8)
        self.count = 0
        self.lines_before = lines_before

    def add(self, future: Future[_Piece], path: Path) -> None:
        try:
            piece = future.result()
        except _BadLine as bad:
            if bad.line is None:
                where = f"at line {self.lines_before + 1} or after:"
            else:
                where = f"line {self.lines_before + bad.line}"
            raise DataError(f"{path}: {where} {bad.problem}; {_FORMAT}") from None
        end = self.count + len(piece.labels)
        if end > len(self.labels):
            self._grow(2 * end)
        self.labels[self.count : end] = piece.labels
        self.pixels[self.count : end] = piece.pixels
        self.count = end
        self.lines_before += piece.lines

    def _grow(self, capacity: int) -> None:
        labels, pixels = self.labels, self.pixels
        self.labels = np.empty(capacity, np.uint8)
        self.pixels = np.empty((capacity, COLUMNS - 1), np.uint8)
        self.labels[: self.count] = labels[: self.count]
        self.pixels[: self.count] = pixels[: self.count]


def _is_header(first: bytes, path: Path) -> bool:
    """A first line that is not all integers is a header (the Kaggle file has none)."""
    if not first:
        raise DataError(f"{path} is empty: download it again")
    if not first.strip():
        return False  # blank lines are skipped wherever they are
    if not _is_text(first):
        raise DataError(
            f"{path}: line 1 is not text but binary data: it is no CSV (or it is corrupt: "
            "download it again)"
        )
    cells = first.split(b",")
    if all(cell.strip().isdigit() for cell in cells):
        return False
    if len(cells) != COLUMNS:
        raise DataError(f"{path}: line 1 (a header) has {len(cells)} columns; {_FORMAT}")
    log.info("%s: line 1 is not all integers, so it is read as a header", path)
    return True


def _is_text(line: bytes) -> bool:
    try:
        return line.decode("utf-8").rstrip("\r\n").isprintable()
    except UnicodeDecodeError:
        return False


def _pieces(stream: BinaryIO, start: bytes) -> Iterator[tuple[bytes, bytes, int]]:
    """Whole lines in pieces of about PIECE_BYTES, as (start, block, cut): the text
    start + block[:cut]. Joining them is left to the parsing thread, which copies anyway."""
    while block := stream.read(PIECE_BYTES):
        cut = block.rfind(b"\n") + 1
        if cut:
            yield start, block, cut
            start = block[cut:]
        else:
            start += block
    if start:
        yield start, b"", 0


def _parse_piece(start: bytes, block: bytes, cut: int) -> _Piece:
    """The labels and pixels [n, 784] of start + block[:cut], whole lines; blank lines skip.

    `np.fromstring` refuses any cell that is not an unsigned integer but wraps big ones around,
    so each line must also hold exactly 784 commas and exactly as many characters as its values
    take written plainly; together that proves 785 integers a line, then ranges are checked.
    """
    chars = _joined(start, block, cut)
    lines = int(np.count_nonzero(chars == NEWLINE)) - (chars[-2] == NEWLINE)
    while len(chars) > 1 and chars[-2] == NEWLINE:
        chars = chars[:-1]
    line_ends = np.flatnonzero(chars == NEWLINE)
    line_starts = np.concatenate(([0], line_ends[:-1] + 1))
    filled = line_ends > line_starts
    if not filled.any():
        return _Piece(np.empty(0, np.uint8), np.empty((0, COLUMNS - 1), np.uint8), lines)
    commas = np.add.reduceat((chars == COMMA).view(np.uint8), line_starts, dtype=np.uint16)
    if np.any(commas[filled] != COLUMNS - 1):
        raise _bad_line(start + block[:cut], "a line has the wrong number of columns")
    chars[line_ends] = np.where(filled, COMMA, SPACE)
    try:
        cells = np.fromstring(chars.tobytes(), np.uint16, sep=",").reshape(-1, COLUMNS)
    except ValueError as error:
        raise _bad_line(start + block[:cut], str(error)) from None
    if np.any((line_ends - line_starts)[filled] != _plain_width(cells)):
        raise _bad_line(start + block[:cut], "a cell is not written as a plain integer")
    if cells[:, 0].max() >= len(UPPERCASE) or cells.max() > 255:
        raise _bad_line(start + block[:cut], "a label is over 25 or a pixel over 255")
    return _Piece(cells[:, 0].astype(np.uint8), cells[:, 1:].astype(np.uint8), lines)


def _joined(start: bytes, block: bytes, cut: int) -> np.ndarray:
    """start + block[:cut] + "\\n" as one writable array, without "\\r"."""
    chars = np.empty(len(start) + cut + 1, np.uint8)
    chars[: len(start)] = np.frombuffer(start, np.uint8)
    chars[len(start) : -1] = np.frombuffer(block, np.uint8, count=cut)
    chars[-1] = NEWLINE
    return chars[chars != RETURN] if b"\r" in start or b"\r" in block else chars


def _plain_width(cells: np.ndarray) -> np.ndarray:
    """Characters each line takes with its values written without spaces or leading zeros."""
    extra_digits = np.count_nonzero(cells >= 10, axis=1) + np.count_nonzero(cells >= 100, axis=1)
    return 2 * COLUMNS - 1 + extra_digits


def _bad_line(text: bytes, reason: str) -> _BadLine:
    """The piece's first bad line, found by a Python scan of that piece only.

    numpy's messages name no line, and the scan runs only once the fast path has failed.
    """
    for number, line in enumerate(text.splitlines(), start=1):
        problem = _line_problem(line)
        if problem:
            return _BadLine(number, problem)
    return _BadLine(None, reason.splitlines()[0][:200])


def _line_problem(line: bytes) -> str | None:
    cells = line.split(b",")
    if cells == [b""]:
        return None
    if len(cells) != COLUMNS:
        return f"has {len(cells)} columns"
    for column, cell in enumerate(cells, start=1):
        if not cell.isdigit() or int(cell) > 255 or cell != str(int(cell)).encode():
            return f"column {column} is {cell.decode(errors='replace')!r}"
    if int(cells[0]) >= len(UPPERCASE):
        return f"has label {int(cells[0])}, outside 0–25"
    return None


@contextmanager
def _open(path: Path) -> Iterator[tuple[BinaryIO, int]]:
    """The CSV's bytes (plain, gunzipped, or the one .csv inside a .zip) and their size.

    A line takes at least 1,570 bytes, so the size bounds the rows. A .gz stores its size
    modulo 4 GiB in its last 4 bytes; a wrong bound only costs a regrow.
    """
    if path.suffix.lower() == ".zip":
        with zipfile.ZipFile(path) as archive:
            member = archive.getinfo(_member(archive, path))
            with archive.open(member) as stream:
                yield stream, member.file_size
    elif path.suffix.lower() == ".gz":
        with path.open("rb") as raw:
            raw.seek(-min(4, path.stat().st_size), os.SEEK_END)
            size = int.from_bytes(raw.read(4), "little")
        with gzip.open(path, "rb") as stream:
            yield stream, size
    else:
        with path.open("rb") as stream:
            yield stream, path.stat().st_size


def _member(archive: zipfile.ZipFile, path: Path) -> str:
    names = [n for n in archive.namelist() if n.lower().endswith(".csv") and "__MACOSX" not in n]
    if len(names) != 1:
        raise DataError(
            f"{path} holds {len(names)} .csv files {names[:5]}, expected exactly one: "
            "unzip it and set path to the CSV"
        )
    return names[0]
