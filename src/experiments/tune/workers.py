"""The processes that run a study's trials, sharing it through its storage.

There is no Ray (or other cluster) path here: Optuna's storage already lets processes share one
study wherever they run (tests/test_tune.py: workers sharing one study under one parent), and a
later invocation joins the study and its parent run (study.study_parent; the resume tests). To
spread a search over machines, start the same `python -m experiments.tune` on each, once the
first has begun, with an `hparams_search.storage` and a `tracking.uri` they all reach. Hydra's
Ray launcher remains for `experiments.run --multirun`, whose jobs are all known before any runs.
"""

from __future__ import annotations

from collections.abc import Sequence

import joblib
from omegaconf import OmegaConf

from experiments.sweep import share_cores
from experiments.tune.settings import SearchSpec
from experiments.tune.study import FailureBudget, RecordBest, load_study, objective, optimize


def run_workers(
    search: SearchSpec, overrides: Sequence[str], parent_run_id: str
) -> list[FailureBudget]:
    """Trials drawn by this process, or by `search.workers` joblib processes at once, each with
    its share of this machine's cores."""
    if search.workers == 1:
        return [worker(search, overrides, parent_run_id, 0)]
    share_cores(OmegaConf.create({"n_jobs": search.workers}))
    return joblib.Parallel(n_jobs=search.workers)(
        joblib.delayed(worker)(search, overrides, parent_run_id, index)
        for index in range(search.workers)
    )


def worker(
    search: SearchSpec, overrides: Sequence[str], parent_run_id: str, index: int
) -> FailureBudget:
    """Runs trials of the study until it is done."""
    trial_run = objective(overrides, search.space, parent_run_id)
    return optimize(load_study(search, index), trial_run, search, [RecordBest(parent_run_id)])
