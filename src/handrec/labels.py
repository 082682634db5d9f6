"""The label space: the ordered class names a model predicts."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from handrec.errors import ConfigError

DIGITS = "0123456789"
UPPERCASE = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
LOWERCASE = "abcdefghijklmnopqrstuvwxyz"


@dataclass(frozen=True)
class LabelSpace:
    """Ordered, unique class names; label i means classes[i].

    Sources map their own labels onto a run's label space by name, so no code relies on
    offsets such as "letters start at 10".
    """

    classes: tuple[str, ...]

    def __post_init__(self) -> None:
        if not self.classes:
            raise ConfigError("classes is empty: give at least two class names, e.g. classes=0123")
        if len(set(self.classes)) != len(self.classes):
            dup = sorted({c for c in self.classes if self.classes.count(c) > 1})
            raise ConfigError(f"classes has duplicates {dup}: each class name must appear once")

    @classmethod
    def from_names(cls, names: str | Iterable[str]) -> LabelSpace:
        """A string is read as one class per character ("0123…XYZ"); a list as given."""
        return cls(tuple(names))

    def __len__(self) -> int:
        return len(self.classes)

    def __contains__(self, name: object) -> bool:
        return name in self.classes

    def index(self, name: str) -> int:
        try:
            return self.classes.index(name)
        except ValueError:
            raise KeyError(f"class {name!r} is not in the label space") from None

    def names(self, labels: Sequence[int] | np.ndarray) -> list[str]:
        return [self.classes[int(i)] for i in labels]

    def lookup_to(self, target: LabelSpace, onto: Mapping[str, str] | None = None) -> np.ndarray:
        """Table t with t[i] = target index of self.classes[i], or -1 where target lacks it.

        onto: only the classes it lists, each looked up under the name it maps to ({"o": "O"}).
        """
        names = self.classes if onto is None else [onto.get(c, "") for c in self.classes]
        return np.array(
            [target.classes.index(c) if c in target else -1 for c in names], dtype=np.int64
        )
