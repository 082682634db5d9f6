"""Turns the data config into one Dataset on the run's label space."""

from __future__ import annotations

import logging

from experiments.schema import DataConfig
from handrec.data.dataset import Dataset, concat
from handrec.data.sources import load
from handrec.labels import LabelSpace

log = logging.getLogger(__name__)


def load_data(data: DataConfig, classes: str) -> Dataset:
    """Load every source, map it onto `classes` by class name and join them.

    Samples whose class is not in the run's label space are dropped, and the count is logged.
    """
    space = LabelSpace.from_names(classes)
    parts = []
    for key, spec in data.sources.items():
        part, dropped = load(spec).to_space(space)
        if dropped:
            log.info("source %s: dropped %d samples of classes outside %s", key, dropped, classes)
        parts.append(part)
    return concat(parts)
