"""Data sources: each is a spec dataclass plus a loader returning a Dataset in its own labels.

The registry maps a source's config name to (spec class, loader); the experiments layer turns
a config node into the spec and calls `load`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from handrec.data.dataset import Dataset
from handrec.data.sources.az_csv import AzCsvSource, load_az_csv
from handrec.data.sources.emnist import EmnistSource, load_emnist
from handrec.data.sources.image_folder import ImageFolderSource, load_image_folder
from handrec.data.sources.mnist import MnistSource, load_mnist
from handrec.data.sources.sample import SampleSource, load_sample

SOURCES: dict[str, tuple[type, Callable[[Any], Dataset]]] = {
    "sample": (SampleSource, load_sample),
    "mnist": (MnistSource, load_mnist),
    "az_csv": (AzCsvSource, load_az_csv),
    "emnist": (EmnistSource, load_emnist),
    "image_folder": (ImageFolderSource, load_image_folder),
}


def load(spec: Any) -> Dataset:
    """Load any registered source from its spec instance."""
    for spec_type, loader in SOURCES.values():
        if isinstance(spec, spec_type):
            return loader(spec)
    known = ", ".join(sorted(SOURCES))
    raise TypeError(f"{type(spec).__name__} is not a registered data source (known: {known})")
