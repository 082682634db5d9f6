"""The study: its storage, sampler and pruner, the MLflow parent run of its trials, and the loop
that runs trials until it is done. Importing it loads Optuna, MLflow and TensorFlow (each trial
is a training run): the search command does so once its settings and space are checked.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict
from typing import Any

import keras
import mlflow
import optuna
from hydra.utils import instantiate
from mlflow.exceptions import MlflowException
from optuna.trial import FrozenTrial, Trial, TrialState

from experiments.job import run
from experiments.record import log_parent_params
from experiments.schema import compose_config
from experiments.sweep import ParentRun
from experiments.tracking import check_reachable
from experiments.tune.settings import SearchError, SearchSpec
from experiments.tune.space import GROUP, ParamSpec, as_override

MONITOR = "val_accuracy"


DONE = (TrialState.COMPLETE, TrialState.PRUNED)


def open_study(search: SearchSpec, overrides: Sequence[str]) -> optuna.Study:
    """The study of that name in the storage, new or resumed, refusing to resume it with
    another objective (other overrides or space)."""
    check_reachable(search.storage)
    study = optuna.create_study(
        study_name=search.study_name,
        storage=search.storage,
        direction="maximize",
        load_if_exists=True,
    )
    objective = {"overrides": sorted(overrides), "space": asdict(search)["space"]}
    stored = study.user_attrs.get("objective")
    if stored is None:
        study.set_user_attr("objective", objective)
    elif stored != objective:
        raise SearchError(
            f"study {search.study_name!r} in {search.storage} was started with other overrides "
            f"or another space: repeat those, or set {GROUP}.study_name to start a new study"
        )
    return study


def load_study(search: SearchSpec, index: int) -> optuna.Study:
    """The stored study with the search's pruner and a sampler of its own for worker `index`:
    neither a resumed study nor another worker replays the random startup points.

    Workers load the study at about the same time and may count its trials differently, so
    their seeds differ by their index modulo the number of workers, not by that count.
    """
    study = optuna.load_study(
        study_name=search.study_name, storage=search.storage, pruner=instantiate(search.pruner)
    )
    seed = (search.seed + len(study.trials)) * search.workers + index
    study.sampler = instantiate(search.sampler, seed=seed)
    return study


def study_parent(study: optuna.Study, experiment_id: str, overrides: Sequence[str]) -> ParentRun:
    """The MLflow run holding the study's trials: the one an earlier invocation opened, or new."""
    run_id = study.user_attrs.get("mlflow_parent_run_id")
    try:
        if run_id and mlflow.MlflowClient().get_run(run_id).info.experiment_id == experiment_id:
            return ParentRun.reopen(run_id)
    except MlflowException:
        pass  # the study outlived its runs (another store): give it a new parent
    parent = ParentRun.open(
        experiment_id,
        f"tune {study.study_name}",
        {"optuna.study": study.study_name, "overrides": " ".join(overrides)},
    )
    log_parent_params(parent.run_id, overrides)
    study.set_user_attr("mlflow_parent_run_id", parent.run_id)
    return parent


def optimize(
    study: optuna.Study,
    trial_run: Callable[[Trial], float],
    search: SearchSpec,
    callbacks: Sequence[Callable[[optuna.Study, FrozenTrial], None]] = (),
) -> FailureBudget:
    """Runs trials until the study has `n_trials` complete or pruned ones, more than
    `max_failures` crashed, or `timeout` passed. A crashed trial is FAIL and the search goes on."""
    failures = FailureBudget(search.max_failures)
    if len(study.get_trials(states=DONE)) < search.n_trials:
        study.optimize(
            trial_run,
            timeout=search.timeout,
            catch=(Exception,),
            callbacks=[
                optuna.study.MaxTrialsCallback(search.n_trials, states=DONE),
                failures,
                *callbacks,
            ],
            gc_after_trial=True,
        )
    return failures


def objective(
    overrides: Sequence[str], space: dict[str, ParamSpec], parent_run_id: str
) -> Callable[[Trial], float]:
    def trial_run(trial: Trial) -> float:
        values = {key: suggest(trial, key, spec) for key, spec in space.items()}
        cfg = compose_config([*overrides, *(as_override(k, v) for k, v in values.items())])
        pruning = PruneTrial(trial)
        best = run(cfg, f"trial {trial.number}", parent_run_id, callbacks=[pruning])
        if pruning.pruned:
            raise optuna.TrialPruned(f"pruned after epoch {pruning.epochs}")
        return best

    return trial_run


class PruneTrial(keras.callbacks.Callback):
    """Reports each epoch's validation accuracy to the trial and stops training when the
    pruner says so.

    It stops training rather than raising optuna.TrialPruned inside fit, so the run still
    ends FINISHED and evaluated; the tag optuna.pruned=true tells it apart.
    """

    def __init__(self, trial: Trial) -> None:
        super().__init__()
        self.trial = trial
        self.pruned = False
        self.epochs = 0

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.trial.set_user_attr("mlflow_run_id", mlflow.active_run().info.run_id)
        mlflow.set_tags(
            {"optuna.study": self.trial.study.study_name, "optuna.trial": str(self.trial.number)}
        )

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.epochs = epoch + 1
        self.trial.report(float((logs or {})[MONITOR]), step=self.epochs)
        if self.trial.should_prune():
            self.pruned = True
            mlflow.set_tag("optuna.pruned", "true")
            self.model.stop_training = True


class FailureBudget:
    """Stops the search once more than `max_failures` trials crashed in this invocation."""

    def __init__(self, max_failures: int) -> None:
        self.max_failures = max_failures
        self.count = 0

    @property
    def exceeded(self) -> bool:
        return self.count > self.max_failures

    def __call__(self, study: optuna.Study, trial: FrozenTrial) -> None:
        if trial.state == TrialState.FAIL:
            self.count += 1
            if self.exceeded:
                study.stop()


class RecordBest:
    """Keeps the study's best value (a metric, one step per trial) and params (tags) on the
    parent run; tags, because a resumed study's best may change and params cannot."""

    def __init__(self, parent_run_id: str) -> None:
        self.parent_run_id = parent_run_id

    def __call__(self, study: optuna.Study, trial: FrozenTrial) -> None:
        if not study.get_trials(states=(TrialState.COMPLETE,)):
            return
        best = study.best_trial
        client = mlflow.MlflowClient()
        client.log_metric(self.parent_run_id, "best_val_accuracy", best.value, step=trial.number)
        tags = {f"best.{key}": str(value) for key, value in best.params.items()}
        tags.update(best_trial=str(best.number), best_run_id=best.user_attrs.get("mlflow_run_id"))
        for key, value in tags.items():
            if value is not None:
                client.set_tag(self.parent_run_id, key, value)


def suggest(trial: Trial, key: str, spec: ParamSpec) -> Any:
    if spec.type == "float":
        return trial.suggest_float(key, spec.low, spec.high, log=spec.log, step=spec.step)
    if spec.type == "int":
        step = int(spec.step or 1)
        return trial.suggest_int(key, int(spec.low), int(spec.high), log=spec.log, step=step)
    return trial.suggest_categorical(key, spec.choices)
