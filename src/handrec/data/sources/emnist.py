"""EMNIST in NIST's official gzip IDX files, any split, labelled through its mapping file.

Each split ships `emnist-<split>-mapping.txt` with `label ascii_code [ascii_code…]` per line;
class names come from it, so no code assumes offsets such as "letters start at 10". bymerge and
balanced fold some lowercase letters into uppercase (their mapping lists only the uppercase code);
letters has labels 1–26 mapping to both cases, and a label with several codes is named by the
first ("A"). Images are stored transposed in the files and come out upright here.

EMNIST frames a character differently from MNIST and from what `handrec.preprocess` gives a
model to read (a 24 px box centred by its box, against 20 px centred by mass). A model trained
on EMNIST's own framing reads the app's input markedly worse (benchmarks/cross_source.py), so
by default every image is re-framed by `preprocess.reframe` once, when the set is prepared.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from handrec import preprocess
from handrec.data.cache import Plan, file_identity
from handrec.data.dataset import Dataset
from handrec.data.idx import check_part, locate, map_labels, official_parts, read_images_and_labels
from handrec.errors import DataError, require
from handrec.labels import LabelSpace

SPLITS = ("byclass", "bymerge", "balanced", "letters", "digits", "mnist")


@dataclass
class EmnistSource:
    """path: the folder of the unzipped official `gzip/` files. split: one of SPLITS.

    part: all | train | test. reframe: pass every image through `preprocess.reframe`, so it is
    framed as the app's and the prediction CLI's input is; False keeps the files' pixels.
    """

    path: str = "data/emnist"
    split: str = "byclass"
    part: str = "all"
    reframe: bool = True

    def __post_init__(self) -> None:
        require(
            self.split in SPLITS,
            f"source emnist: split must be one of {'|'.join(SPLITS)}, got {self.split!r}",
        )
        check_part(self.part, "emnist")


def plan_emnist(spec: EmnistSource, cache: Path) -> Plan:
    """The split's images in its own label space (class names from the mapping file)."""
    folder = Path(spec.path).expanduser()
    mapping = folder / f"emnist-{spec.split}-mapping.txt"
    if not mapping.is_file():
        raise DataError(
            f"{mapping} does not exist: unzip NIST's EMNIST gzip.zip (https://www.nist.gov/itl/"
            "products-and-services/emnist-dataset) there or set data.sources.<key>.path"
        )
    pairs = [
        (
            locate(folder, f"emnist-{spec.split}-{part}-images-idx3-ubyte"),
            locate(folder, f"emnist-{spec.split}-{part}-labels-idx1-ubyte"),
        )
        for part in official_parts(spec.part)
    ]
    files = [mapping, *(f for pair in pairs for f in pair)]
    if spec.reframe:
        files.append(Path(preprocess.__file__))
    inputs = [file_identity(f) for f in files]
    return Plan(f"emnist-{spec.split}", inputs, lambda: _read(mapping, pairs, spec.reframe))


def read_mapping(path: Path) -> tuple[LabelSpace, np.ndarray]:
    """The class names in label order, and table[label] = class index (−1 where unmapped).

    Labels that share a name (none in the official files) share a class.
    """
    codes: dict[int, str] = {}
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        fields = line.split()
        if not fields:
            continue
        if len(fields) < 2 or not all(f.isdigit() for f in fields):
            raise DataError(f"{path}: line {number} is {line!r}, expected 'label ascii_code'")
        codes[int(fields[0])] = chr(int(fields[1]))
    if not codes:
        raise DataError(f"{path} is empty: it must list 'label ascii_code' per line")
    names = list(dict.fromkeys(codes[label] for label in sorted(codes)))
    table = np.full(max(codes) + 1, -1, dtype=np.int64)
    for label, name in codes.items():
        table[label] = names.index(name)
    return LabelSpace.from_names(names), table


def _read(mapping: Path, pairs: list[tuple[Path, Path]], reframe: bool) -> Dataset:
    space, table = read_mapping(mapping)
    images, labels = [], []
    for image_file, label_file in pairs:
        x, y = read_images_and_labels(image_file, label_file)
        upright = x.transpose(0, 2, 1)
        images.append(preprocess.reframe(upright) if reframe else upright.copy())
        labels.append(map_labels(y, table, str(label_file)))
    return Dataset(np.concatenate(images), np.concatenate(labels), space)
