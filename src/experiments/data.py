"""Turns the data config into one Dataset on the run's label space — and lets a user look at it.

    python -m experiments.data [overrides ...] [--grid samples.png] [--per-class 12]
    python -m experiments.data --cache | --prune-cache DAYS

prepares the configured data (filling the cache), prints per-class counts and split sizes, and
writes a PNG grid of samples per class, so a user can look before training. --cache lists the
prepared-data cache ($HANDREC_CACHE or ~/.cache/handrec); --prune-cache deletes its entries not
used for DAYS days (0: all).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from experiments import cli, schema
from experiments.schema import DataConfig
from handrec.data import cache
from handrec.data.balance import cap_per_class, undersample
from handrec.data.dataset import Dataset, concat
from handrec.data.sources import load
from handrec.data.split import Splits, split
from handrec.errors import DataError
from handrec.labels import LabelSpace

log = logging.getLogger(__name__)


def load_data(data: DataConfig, classes: str) -> Dataset:
    """Load every source, map it onto `classes` by class name, join them, then cap or balance.

    Samples whose class is not in the run's label space are dropped, and the count is logged.
    """
    joined = concat(_mapped(data.sources, data.cache_dir, classes))
    if data.max_per_class is not None:
        joined = cap_per_class(joined, data.max_per_class, data.split.seed)
    if data.balance == "undersample":
        joined = undersample(joined, data.split.seed)
    return joined


def split_data(data: Dataset, config: DataConfig, classes: str) -> Splits:
    """`data` split by `config.split`, then `config.train_extra`'s samples added to the
    training part alone, so validation and test stay those of `data`.

    An extra image equal to one of validation or test is refused: it would score the model on
    what it was trained on (as a source that holds the test part's characters would).
    """
    parts = split(data, config.split)
    extra = config.train_extra
    if not extra.sources:
        return parts
    added = concat(_mapped(extra.sources, config.cache_dir, classes, extra.classes or None))
    seen = shared_images(added, concat([parts.val, parts.test]))
    if seen:
        raise DataError(
            f"data.train_extra: {seen} of its {len(added)} images are also in the validation or "
            "test part: list only classes the split does not hold in data.train_extra.classes, "
            "or use other data"
        )
    log.info("train_extra: %d more training samples", len(added))
    return Splits(concat([parts.train, added]), parts.val, parts.test)


def shared_images(data: Dataset, others: Dataset) -> int:
    """How many images of `data` are pixel for pixel one of `others`."""
    held = {image.tobytes() for image in others.x}
    return sum(image.tobytes() in held for image in data.x)


def _mapped(
    sources: dict[str, Any],
    cache_dir: str | None,
    classes: str,
    onto: dict[str, str] | None = None,
) -> list[Dataset]:
    """Each source loaded and mapped onto `classes` by class name (`Dataset.to_space`)."""
    space = LabelSpace.from_names(classes)
    parts = []
    for key, spec in sources.items():
        part, dropped = load(spec, cache_dir).to_space(space, onto)
        if dropped:
            log.info("source %s: dropped %d samples of classes outside %s", key, dropped, classes)
        parts.append(part)
    return parts


def describe(data: Dataset, parts: Splits) -> str:
    """A table of samples per class in each part, then the totals."""
    lines = [f"{'class':>5} {'all':>8} {'train':>8} {'val':>8} {'test':>8}"]
    columns = [data.counts(), parts.train.counts(), parts.val.counts(), parts.test.counts()]
    for name in data.labels.classes:
        lines.append(f"{name:>5} " + " ".join(f"{c[name]:>8,}" for c in columns))
    lines.append(
        f"{'total':>5} "
        + " ".join(
            f"{n:>8,}" for n in (len(data), len(parts.train), len(parts.val), len(parts.test))
        )
    )
    return "\n".join(lines)


def write_grid(data: Dataset, path: Path, per_class: int, seed: int) -> None:
    """A PNG of up to `per_class` random samples of each class. Matplotlib loads here, not with
    the module: --help and a config error do without its second."""
    from handrec.plots import samples_figure

    rng = np.random.default_rng(seed)
    by_class = {}
    for label, name in enumerate(data.labels.classes):
        members = np.flatnonzero(data.y == label)
        chosen = rng.choice(members, size=min(per_class, len(members)), replace=False)
        by_class[name] = data.x[np.sort(chosen)]
    samples_figure(by_class).savefig(path, dpi=100)


def main(argv: Sequence[str] | None = None) -> int:
    parser = cli.parser("experiments.data", __doc__)
    parser.add_argument("overrides", nargs="*", help="config overrides, e.g. data=emnist_36")
    parser.add_argument(
        "--grid",
        type=Path,
        default=Path("samples.png"),
        help="where to write the sample grid (default samples.png)",
    )
    parser.add_argument("--per-class", type=int, default=12, help="samples per class in the grid")
    parser.add_argument("--cache", action="store_true", help="list the cache's entries")
    parser.add_argument(
        "--prune-cache", type=float, metavar="DAYS", help="delete entries unused for DAYS days"
    )
    args = parser.parse_intermixed_args(argv)  # overrides before or after the options
    if args.prune_cache is not None:
        for entry in cache.prune(unused_days=args.prune_cache):
            print(f"deleted {entry.path.name} ({entry.size / 1e6:.1f} MB)")
    if args.cache or args.prune_cache is not None:
        print(cache_listing())
        return 0
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    settings = schema.settings(schema.compose_config(args.overrides))
    data = load_data(settings.data, settings.classes)
    parts = split_data(data, settings.data, settings.classes)
    print(f"data={settings.data.name}  fingerprint {data.fingerprint()}")
    print(describe(data, parts))
    write_grid(data, args.grid, args.per_class, settings.seed)
    print(f"samples per class: {args.grid}")
    return 0


def cache_listing() -> str:
    """One line per entry (size, days since last use), least recently used first."""
    found = cache.entries()
    now = time.time()
    lines = [
        f"{cache.cache_root(None)}: {len(found)} entries, {sum(e.size for e in found) / 1e6:.1f} MB"
    ]
    lines += [
        f"  {e.size / 1e6:9.1f} MB  used {(now - e.last_used) / 86400:5.1f} days ago  {e.path.name}"
        for e in found
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    cli.cli(main, schema.CONFIG_ERRORS)
