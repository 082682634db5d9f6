"""Data sources: each a spec dataclass and a plan (what it reads, how it builds a Dataset in its
own labels); `load` runs a plan through the cache.

`SOURCES` maps a config choice (conf/source/<name>.yaml) to its spec; `PLANS` a spec's type to
its plan. The experiments layer turns a config node into the spec and calls `load`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from handrec.data.cache import Plan, cache_root, load_planned
from handrec.data.dataset import Dataset
from handrec.data.sources.az_csv import AzCsvSource, plan_az_csv
from handrec.data.sources.emnist import EmnistSource, plan_emnist
from handrec.data.sources.image_folder import ImageFolderSource, plan_image_folder
from handrec.data.sources.mnist import MnistSource, plan_mnist
from handrec.data.sources.sample import SampleSource, plan_sample

SOURCES: dict[str, type] = {
    "sample": SampleSource,
    "mnist": MnistSource,
    "az_csv": AzCsvSource,
    "emnist": EmnistSource,
    "image_folder": ImageFolderSource,
}
PLANS: dict[type, Callable[[Any, Path], Plan]] = {
    SampleSource: plan_sample,
    MnistSource: plan_mnist,
    AzCsvSource: plan_az_csv,
    EmnistSource: plan_emnist,
    ImageFolderSource: plan_image_folder,
}


def load(spec: Any, cache_dir: str | None = None) -> Dataset:
    """Any registered source from its spec, from the cache in `cache_dir` (None: $HANDREC_CACHE
    or ~/.cache/handrec) when what it reads is unchanged."""
    planner = PLANS.get(type(spec))
    if planner is None:
        known = ", ".join(sorted(SOURCES))
        raise TypeError(f"{type(spec).__name__} is not a registered data source (known: {known})")
    return load_planned(spec, planner(spec, cache_root(cache_dir)), cache_dir)
