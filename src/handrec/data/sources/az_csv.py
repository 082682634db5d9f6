"""The Kaggle "A-Z Handwritten Data" CSV: a label 0–25 (A–Z) then 784 pixels on every line.

The file has no header row: pandas' default `read_csv` takes the first letter for a header and
silently drops it. Here the first line counts as a header only when it is not all integers.
The text is cut into pieces of whole lines that pyarrow parses on all cores, straight into uint8
columns that become images at once, so no int64/float copy of the whole set ever exists
(benchmarks/bench_data.py measures it). A problem is located to its line by a pure-Python scan
of the failing piece, which runs only after arrow has failed.
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

import cv2
import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from handrec.data.cache import cached, file_identity, settings_of
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

_NAMES = [f"c{i}" for i in range(COLUMNS)]
_PARSE = pacsv.ParseOptions(quote_char=False, double_quote=False)
_CONVERT = pacsv.ConvertOptions(
    column_types=dict.fromkeys(_NAMES, pa.uint8()),
    null_values=[],
    quoted_strings_can_be_null=False,
    strings_can_be_null=False,
)
_FORMAT = "expected 785 integers a line: a label 0–25 (A–Z), then 784 pixels 0–255"


@dataclass
class AzCsvSource:
    """The CSV as .csv, .csv.gz, or the .zip Kaggle serves; `cache_dir` None → ~/.cache/handrec."""

    path: str = "data/az-handwritten-alphabets-in-csv-format.zip"
    cache_dir: str | None = None


def load_az_csv(spec: AzCsvSource) -> Dataset:
    """Letters A–Z in the label space "A…Z", from the cache when the file is unchanged."""
    path = Path(spec.path).expanduser()
    if not path.is_file():
        raise DataError(
            f"{path} does not exist: download the A–Z CSV from {KAGGLE_PAGE} "
            f"(or run `{KAGGLE_COMMAND}`) and set data.sources.<key>.path to the .zip/.csv/.csv.gz"
        )
    key = [settings_of(spec), file_identity(path)]
    return cached(spec.cache_dir, "az_csv", key, lambda: read_az_csv(path))


def read_az_csv(path: Path) -> Dataset:
    """Parse and check the whole file; any problem is a DataError naming the file and line."""
    try:
        labels, pixels = _parse(path)
    except (OSError, EOFError, zlib.error, zipfile.BadZipFile) as error:
        raise DataError(
            f"{path} cannot be read ({error}): if it is truncated or corrupt, download it again"
        ) from None
    if not labels:
        raise DataError(f"{path} holds no samples: {_FORMAT}")
    images = np.concatenate(pixels).reshape(-1, 28, 28)
    return Dataset(
        images, np.concatenate(labels).astype(np.int64), LabelSpace.from_names(UPPERCASE)
    )


def _parse(path: Path) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Labels and [n, 784] pixel blocks, one per piece of text, parsed on all cores in order.

    At most WORKERS + 1 pieces are in flight, so memory stays near the size of the result.
    """
    labels: list[np.ndarray] = []
    pixels: list[np.ndarray] = []
    with _open(path) as stream, ThreadPoolExecutor(WORKERS) as pool:
        first = stream.readline(MAX_HEADER)
        header = _is_header(first, path)
        first_line, carry = (2, b"") if header else (1, first)
        pending: deque[Future[tuple[np.ndarray, np.ndarray]]] = deque()
        for number, text in _pieces(stream, first_line, carry):
            pending.append(pool.submit(_parse_piece, text, number, path))
            while len(pending) > WORKERS or (pending and pending[0].done()):
                for done, out in zip(pending.popleft().result(), (labels, pixels), strict=True):
                    out.append(done)
        for future in pending:
            for done, out in zip(future.result(), (labels, pixels), strict=True):
                out.append(done)
    return labels, pixels


def _is_header(first: bytes, path: Path) -> bool:
    """A first line that is not all integers is a header (the Kaggle file has none)."""
    if not first:
        raise DataError(f"{path} is empty: download it again")
    cells = first.split(b",")
    if all(cell.strip().isdigit() for cell in cells):
        return False
    if len(cells) != COLUMNS:
        raise DataError(f"{path}: line 1 (a header) has {len(cells)} columns; {_FORMAT}")
    log.info("%s: line 1 is not all integers, so it is read as a header", path)
    return True


def _pieces(stream: BinaryIO, first_line: int, carry: bytes) -> Iterator[tuple[int, memoryview]]:
    """Whole lines in pieces of about PIECE_BYTES, each with the number of its first line."""
    while block := stream.read(PIECE_BYTES):
        text = carry + block
        cut = text.rfind(b"\n") + 1
        carry = text[cut:]
        if cut:
            yield first_line, memoryview(text)[:cut]
            first_line += text.count(b"\n", 0, cut)
    if carry:
        yield first_line, memoryview(carry)


def _parse_piece(text: memoryview, first_line: int, path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(labels, pixels [n, 784]) of whole lines; arrow parses, numpy checks the labels."""
    read = pacsv.ReadOptions(column_names=_NAMES, block_size=len(text) + 1, use_threads=False)
    try:
        table = pacsv.read_csv(pa.py_buffer(text), read, _PARSE, _CONVERT)
    except pa.ArrowInvalid as error:
        raise _invalid(path, text, first_line, error) from None
    columns = np.empty((COLUMNS, table.num_rows), np.uint8)
    for i, column in enumerate(table.columns):
        columns[i] = column.to_numpy()
    if columns[0].max(initial=0) >= len(UPPERCASE):
        raise _invalid(path, text, first_line, "a label is over 25")
    return columns[0].copy(), cv2.transpose(columns[1:])  # blocked: 1.5x numpy's .T.copy()


def _invalid(path: Path, text: memoryview, first_line: int, error: Exception | str) -> DataError:
    """The error for the piece's first bad line, found by a Python scan of that piece only.

    Arrow's messages name no line, and the scan runs only once arrow has failed.
    """
    for number, line in enumerate(bytes(text).splitlines(), start=first_line):
        problem = _line_problem(line)
        if problem:
            return DataError(f"{path}: line {number} {problem}; {_FORMAT}")
    reason = str(error).splitlines()[0][:200]
    return DataError(f"{path}: at line {first_line} or after: {reason}; {_FORMAT}")


def _line_problem(line: bytes) -> str | None:
    cells = line.split(b",")
    if cells == [b""]:
        return None
    if len(cells) != COLUMNS:
        return f"has {len(cells)} columns"
    for column, cell in enumerate(cells, start=1):
        text = cell.strip()
        if not text.isdigit() or int(text) > 255:
            return f"column {column} is {cell.decode(errors='replace')!r}"
    if int(cells[0]) >= len(UPPERCASE):
        return f"has label {int(cells[0])}, outside 0–25"
    return None


@contextmanager
def _open(path: Path) -> Iterator[BinaryIO]:
    """The CSV's bytes: plain, gunzipped, or the one .csv inside a .zip."""
    if path.suffix.lower() == ".zip":
        with zipfile.ZipFile(path) as archive, archive.open(_member(archive, path)) as member:
            yield member
    elif path.suffix.lower() == ".gz":
        with gzip.open(path, "rb") as stream:
            yield stream
    else:
        with path.open("rb") as stream:
            yield stream


def _member(archive: zipfile.ZipFile, path: Path) -> str:
    names = [n for n in archive.namelist() if n.lower().endswith(".csv") and "__MACOSX" not in n]
    if len(names) != 1:
        raise DataError(
            f"{path} holds {len(names)} .csv files {names[:5]}, expected exactly one: "
            "unzip it and set path to the CSV"
        )
    return names[0]
