"""The one in-memory representation of a labelled image set."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from handrec.errors import DataError
from handrec.labels import LabelSpace

IMAGE_SHAPE = (28, 28)


@dataclass(frozen=True)
class Dataset:
    """Images as uint8 [N, 28, 28] (white ink on black) and int64 labels into `labels`.

    Kept as uint8 until batching: a float32 copy of a large set costs 4x the memory.
    """

    x: np.ndarray
    y: np.ndarray
    labels: LabelSpace

    def __post_init__(self) -> None:
        if self.x.dtype != np.uint8 or self.x.ndim != 3 or self.x.shape[1:] != IMAGE_SHAPE:
            raise DataError(
                f"images must be uint8 [N, 28, 28], got {self.x.dtype} {list(self.x.shape)}"
            )
        if self.y.shape != (len(self.x),):
            raise DataError(f"{len(self.x)} images but labels have shape {list(self.y.shape)}")
        if len(self.y) and (self.y.min() < 0 or self.y.max() >= len(self.labels)):
            raise DataError(
                f"labels must lie in 0..{len(self.labels) - 1}, "
                f"found {self.y.min()}..{self.y.max()}"
            )

    def __len__(self) -> int:
        return len(self.y)

    def subset(self, index: np.ndarray) -> Dataset:
        return Dataset(self.x[index], self.y[index], self.labels)

    def counts(self) -> dict[str, int]:
        """Samples per class, in label-space order (zero counts included)."""
        per_class = np.bincount(self.y, minlength=len(self.labels))
        return dict(zip(self.labels.classes, per_class.tolist(), strict=True))

    def fingerprint(self) -> str:
        """A short content hash, so two runs can tell whether they saw the same data."""
        digest = hashlib.blake2b(digest_size=8)
        digest.update("\n".join(self.labels.classes).encode())
        digest.update(np.ascontiguousarray(self.y, dtype=np.int64).tobytes())
        digest.update(np.ascontiguousarray(self.x).tobytes())
        return digest.hexdigest()

    def to_space(
        self, target: LabelSpace, onto: Mapping[str, str] | None = None
    ) -> tuple[Dataset, int]:
        """Relabel onto `target` by class name (with `onto`: only the classes it lists, under
        the names it gives them); returns the data and how many samples were dropped because
        their class is not in `target` or not listed."""
        mapped = self.labels.lookup_to(target, onto)[self.y]
        keep = mapped >= 0
        return Dataset(self.x[keep], mapped[keep], target), int((~keep).sum())


def concat(parts: Sequence[Dataset]) -> Dataset:
    """Join data sets that share one label space."""
    if not parts:
        raise DataError("no data sources configured: add at least one under data.sources")
    space = parts[0].labels
    if any(p.labels != space for p in parts):
        raise DataError("cannot join data sets with different label spaces: map them first")
    return Dataset(
        np.concatenate([p.x for p in parts]), np.concatenate([p.y for p in parts]), space
    )
