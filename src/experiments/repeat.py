"""Repeated runs of one config as child runs of one parent: several seeds, k folds, or both.

python -m experiments.repeat seeds=[0,1,2]
python -m experiments.repeat data.split.folds=5 model.filters=64
python -m experiments.repeat seeds=[0,1] data.split.folds=5 data.split.seed=0

`seeds` sets `seed` per run: weights, data order and, unless data.split.seed is pinned, the
split. `data.split.folds=k` runs every fold once: validation rotates over train+val, the test
part stays. The parent run gets the mean and standard deviation of the runs' best validation
accuracy, test accuracy and test macro-F1: how much a result owes to chance.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from hydra.core.override_parser.overrides_parser import OverridesParser

from experiments import cli, schema
from experiments.cli import EXIT_OK, EXIT_SOME_FAILED
from experiments.schema import compose_config
from handrec.errors import ConfigError

if TYPE_CHECKING:
    import pandas as pd

    from experiments.sweep import ParentRun

SEEDS = "seeds"


def main(argv: Sequence[str] | None = None) -> int:
    parser = cli.parser("experiments.repeat", __doc__)
    parser.add_argument("overrides", nargs="*", help="seeds=[...] and config overrides")
    args = parser.parse_args(argv)
    seeds, overrides = split_seeds(args.overrides)
    parent, stats, failed = repeat(overrides, seeds)
    print(report(stats, failed, parent))
    return EXIT_SOME_FAILED if failed else EXIT_OK


def split_seeds(args: Sequence[str]) -> tuple[list[int], list[str]]:
    """`seeds=[0,1,2]` (or `seeds=0,1,2`) apart from the config overrides."""
    seeds: list[int] = []
    overrides = []
    for override, line in zip(OverridesParser.create().parse_overrides(args), args, strict=True):
        if override.key_or_group != SEEDS:
            overrides.append(line)
        elif override.is_sweep_override():
            seeds = [int(value) for value in override.sweep_iterator()]
        else:
            value = override.value()
            seeds = [int(v) for v in value] if isinstance(value, list) else [int(value)]
    return seeds, overrides


def variants(seeds: Sequence[int], folds: int) -> list[list[str]]:
    """The overrides of each repeat: every seed with every fold."""
    by_seed = [[f"seed={seed}"] for seed in seeds] or [[]]
    by_fold = [[f"data.split.fold={k}"] for k in range(folds)] if folds >= 2 else [[]]
    plan = [seed + fold for seed in by_seed for fold in by_fold]
    if plan == [[]]:
        raise ConfigError(
            f"nothing to repeat: give {SEEDS}=[0,1,...] and/or data.split.folds=k with k >= 2"
        )
    return plan


def repeat(overrides: Sequence[str], seeds: Sequence[int]) -> tuple[ParentRun, pd.DataFrame, int]:
    """Runs every variant under one parent, then sums them up on it; returns the parent, the
    statistics and the number of failed runs (a failed run ends FAILED, the others go on)."""
    base = schema.settings(compose_config(overrides))
    plan = variants(seeds, base.data.split.folds)
    from experiments import record  # here, the config and the plan checked: MLflow
    from experiments.lifecycle import ending_parent
    from experiments.sweep import ParentRun
    from experiments.tracking import connect

    name = f"repeat {len(plan)}x" + (f": {' '.join(overrides)}" if overrides else "")
    experiment_id = connect(base.tracking)
    parent = ParentRun.open(experiment_id, name, {"overrides": " ".join(overrides)})
    record.log_parent_params(
        parent.run_id, [*overrides, *([f"{SEEDS}={list(seeds)}"] * bool(seeds))]
    )
    with ending_parent(parent, experiment_id):
        failed = sum(not run_variant(overrides, variant, parent) for variant in plan)
        stats = statistics(parent)
    return parent, stats, failed


def run_variant(overrides: Sequence[str], variant: Sequence[str], parent: ParentRun) -> bool:
    """One repeat; False when it failed (its run, if it got one, ends FAILED)."""
    from experiments.job import run  # TensorFlow

    name = ",".join(variant)
    try:
        run(compose_config([*overrides, *variant]), name, parent.run_id)
    except Exception as err:
        print(f"{name} failed: {err}", file=sys.stderr)
        return False
    return True


def statistics(parent: ParentRun) -> pd.DataFrame:
    """Mean and standard deviation of each compared metric over the finished children (the
    parent records them as <metric>_mean and <metric>_std when it closes)."""
    import mlflow
    import pandas as pd

    from experiments import record

    finished = [c for c in parent.children() if c.info.status == "FINISHED"]
    mlflow.MlflowClient().set_tag(parent.run_id, "runs_finished", str(len(finished)))
    return pd.DataFrame(record.statistics(finished))


def report(stats: pd.DataFrame, failed: int, parent: ParentRun) -> str:
    lines = [f"{metric:<18} {row['mean']:.4f} ± {row['std']:.4f}" for metric, row in stats.items()]
    if failed:
        lines.append(f"{failed} runs failed: their error tags say why")
    lines.append(f"the runs: python -m experiments.compare --sweep {parent.run_id}")
    return "\n".join(lines)


if __name__ == "__main__":
    cli.cli(main, schema.CONFIG_ERRORS)
