"""Hyperparameter search with Optuna: TPE over a search space, pruning, a resumable study.

python -m experiments.tune                                            # hparams_search=optuna
python -m experiments.tune hparams_search.n_trials=50 model.dense_units=128 train.epochs=10
python -m experiments.tune hparams_search.space={model.dropout:null}  # one dimension less
python -m experiments.tune ++hparams_search.space={model.dense_units:{type:int,low:64,high:512}}

The search settings and space come from conf/hparams_search/<name>.yaml, overridden as
`hparams_search.<key>=...`; every other override applies to each trial's config. A trial is
one run, a child of the study's parent run, of that config plus the trial's sampled values;
the objective is its best validation accuracy. A trial that the pruner stops early ends
FINISHED all the same (trained for fewer epochs, evaluated) with the tag `optuna.pruned=true`.
The study lives in `hparams_search.storage`: run the same command again and an interrupted
search goes on until the study has `n_trials` complete or pruned trials.
"""

from __future__ import annotations

import difflib
import importlib.util
import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import joblib
import keras
import mlflow
import optuna
from hydra import compose, initialize_config_dir
from hydra.core.config_store import ConfigStore
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import MissingConfigException
from hydra.utils import instantiate
from mlflow.exceptions import MlflowException
from omegaconf import MISSING, DictConfig, OmegaConf
from optuna.trial import FrozenTrial, Trial, TrialState

from experiments import cli, schema
from experiments.run import run
from experiments.schema import compose_config
from experiments.sweep import THREAD_ENV, ParentRun, ending_on_error, share_cores
from experiments.tracking import check_reachable, connect, flatten
from handrec.errors import ConfigError, HandrecError, first_line, require

GROUP = "hparams_search"
DEFAULT_PRESET = "optuna"
TYPES = ("float", "int", "categorical")
MONITOR = "val_accuracy"
DONE = (TrialState.COMPLETE, TrialState.PRUNED)
LAUNCHERS = ("joblib", "ray")
TPE = "optuna.samplers.TPESampler"
MEDIAN = "optuna.pruners.MedianPruner"
_ABSENT = object()


class SearchError(HandrecError):
    """The search cannot start, or stopped for good."""


@dataclass
class ParamSpec:
    """One dimension of the space: a float or int in [low, high] (optionally on a log scale or a
    grid of `step`), or one of `choices`."""

    type: str = MISSING
    low: float | None = None
    high: float | None = None
    log: bool = False
    step: float | None = None
    choices: list[Any] | None = None


@dataclass
class SearchSpec:
    """conf/hparams_search/*.yaml: a study, how to sample and prune it, and its space."""

    study_name: str = "handrec"
    storage: str = MISSING  # an Optuna storage URL; sqlite keeps the study across invocations
    n_trials: int = 20  # complete + pruned trials the study should reach, over all invocations
    max_failures: int = 3  # crashed trials one invocation (or worker) tolerates before it stops
    timeout: float | None = None  # seconds one invocation may start new trials for
    workers: int = 1  # trials at once, each worker a process drawing from the shared study
    launcher: str = "joblib"  # of the workers: joblib (this machine) or ray (a Ray cluster)
    ray_address: str | None = None  # ray: None starts a local Ray, "auto" joins a running one
    seed: int = 0  # of the sampler; a resumed study continues from another seed
    sampler: dict[str, Any] = field(default_factory=lambda: {"_target_": TPE})
    pruner: dict[str, Any] = field(default_factory=lambda: {"_target_": MEDIAN})
    # config key → its range; null takes a key of a preset out of the space
    space: dict[str, ParamSpec | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.space = {key: spec for key, spec in self.space.items() if spec is not None}
        require(self.n_trials >= 1, f"{GROUP}.n_trials must be >= 1, got {self.n_trials}")
        require(
            self.max_failures >= 0, f"{GROUP}.max_failures must be >= 0, got {self.max_failures}"
        )
        require(bool(self.space), f"{GROUP}.space is empty: name at least one config key")
        require(self.workers >= 1, f"{GROUP}.workers must be >= 1, got {self.workers}")
        require(
            self.launcher in LAUNCHERS,
            f"{GROUP}.launcher must be one of {'|'.join(LAUNCHERS)}, got {self.launcher!r}",
        )


def main(argv: Sequence[str] | None = None) -> None:
    parser = cli.parser("experiments.tune", __doc__)
    parser.add_argument("overrides", nargs="*", help="hparams_search.* and config overrides")
    args = parser.parse_args(argv)
    preset, search_overrides, overrides = split_overrides(args.overrides)
    try:
        study = tune(compose_search(preset, search_overrides), overrides)
    except (KeyboardInterrupt, cli.Interrupted) as stop:
        cut = cli.interruption(stop)
        again = f"{cut.message}: run the same command again to continue the study"
        raise cli.interruption(cut, again) from None
    print(summary(study))


def tune(search: SearchSpec, overrides: Sequence[str]) -> optuna.Study:
    """Checks the space, then runs trials under the study's parent run."""
    base = compose_config(overrides)
    check_space(search.space, base, overrides)
    experiment_id = connect(schema.settings(base).tracking)
    study = open_study(search, overrides)
    parent = study_parent(study, experiment_id, overrides)
    with ending_on_error(parent):
        budgets = run_workers(search, overrides, parent.run_id)
    complete = study.get_trials(states=(TrialState.COMPLETE,))
    exceeded = any(budget.exceeded for budget in budgets)
    parent.close("FAILED" if exceeded or not complete else "FINISHED")
    if exceeded:
        raise SearchError(
            f"stopped after {sum(b.count for b in budgets)} failed trials ({GROUP}.max_failures="
            f"{search.max_failures}): see the error tags of the FAILED runs"
        )
    return study


def run_workers(
    search: SearchSpec, overrides: Sequence[str], parent_run_id: str
) -> list[FailureBudget]:
    """Trials drawn by this process, or by `search.workers` processes at once (joblib's on this
    machine, or Ray tasks), each with its share of the cores. They share the study through its
    storage, which on a cluster must be a database every node reaches."""
    if search.workers == 1:
        return [worker(search, overrides, parent_run_id, 0)]
    if search.launcher == "ray":
        return on_ray(search, overrides, parent_run_id)
    share_cores(OmegaConf.create({"n_jobs": search.workers}))
    return joblib.Parallel(n_jobs=search.workers)(
        joblib.delayed(worker)(search, overrides, parent_run_id, index)
        for index in range(search.workers)
    )


def on_ray(search: SearchSpec, overrides: Sequence[str], parent_run_id: str) -> list[FailureBudget]:
    """Workers as Ray tasks, the cluster's cores divided among them."""
    if importlib.util.find_spec("ray") is None:
        raise SearchError(
            f"{GROUP}.launcher=ray needs the optional dependencies 'ray': pip install -e \".[ray]\""
        )
    import ray

    ray.init(address=search.ray_address, ignore_reinit_error=True, log_to_driver=False)
    try:
        cpus = max(1, int(ray.cluster_resources().get("CPU", 1)) // search.workers)
        task = ray.remote(worker).options(
            num_cpus=cpus, runtime_env={"env_vars": dict.fromkeys(THREAD_ENV, str(cpus))}
        )
        return ray.get(
            [task.remote(search, overrides, parent_run_id, i) for i in range(search.workers)]
        )
    finally:
        ray.shutdown()


def worker(
    search: SearchSpec, overrides: Sequence[str], parent_run_id: str, index: int
) -> FailureBudget:
    """Runs trials of the study until it is done."""
    trial_run = objective(overrides, search.space, parent_run_id)
    return optimize(load_study(search, index), trial_run, search, [RecordBest(parent_run_id)])


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


def split_overrides(args: Sequence[str]) -> tuple[str, list[str], list[str]]:
    """One command line → (search preset, its overrides, every trial's config overrides)."""
    preset, search, config = DEFAULT_PRESET, [], []
    for override, line in zip(OverridesParser.create().parse_overrides(args), args, strict=True):
        key = override.key_or_group
        if key == GROUP:
            preset = str(override.value())
        elif key.startswith(f"{GROUP}."):
            search.append(line)
        else:
            config.append(line)
    return preset, search, config


def compose_search(preset: str, overrides: Sequence[str]) -> SearchSpec:
    """conf/hparams_search/<preset>.yaml with overrides, as checked settings."""
    register()
    try:
        with initialize_config_dir(str(schema.PROJECT_ROOT / "conf"), version_base="1.3"):
            cfg = compose(f"{GROUP}/{preset}", overrides=list(overrides))
    except MissingConfigException as err:
        presets = sorted(p.stem for p in (schema.PROJECT_ROOT / "conf" / GROUP).glob("*.yaml"))
        raise SearchError(
            f"no search preset {GROUP}={preset}: choose one of {', '.join(presets)}"
        ) from err
    return OmegaConf.to_object(cfg[GROUP])


def register() -> None:
    """The project's schemas, plus the search settings' schema for the presets."""
    schema.register()
    ConfigStore.instance().store(group=f"schema/{GROUP}", name="search", node=SearchSpec)


def check_space(space: dict[str, ParamSpec], base: DictConfig, overrides: Sequence[str]) -> None:
    """Fails before any trial on an unknown key, a malformed range, or an end of a range (or a
    choice) that the config refuses; the cheap checks of every key come first."""
    for key, spec in space.items():
        check_key(key, base)
        check_range(key, spec)
    for key, spec in space.items():
        check_ends(key, spec, overrides)


def check_ends(key: str, spec: ParamSpec, overrides: Sequence[str]) -> None:
    for value in ends(spec):
        try:
            schema.settings(compose_config([*overrides, as_override(key, value)]))
        except (HandrecError, *schema.CONFIG_ERRORS) as err:
            raise ConfigError(
                f"{GROUP}.space.{key}: {value!r} is refused: {first_line(err)}"
            ) from err


def check_key(key: str, base: DictConfig) -> None:
    if OmegaConf.select(base, key, default=_ABSENT) is _ABSENT:
        keys = flatten(OmegaConf.to_container(base, resolve=False)).keys()
        close = difflib.get_close_matches(key, keys, n=1, cutoff=0.8)
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise ConfigError(f"{GROUP}.space.{key} is not a key of the config{hint}")


def check_range(key: str, spec: ParamSpec) -> None:
    name = f"{GROUP}.space.{key}"
    require(spec.type in TYPES, f"{name}.type must be one of {', '.join(TYPES)}, got {spec.type}")
    if spec.type == "categorical":
        require(bool(spec.choices), f"{name}: categorical needs a non-empty list of choices")
        require(spec.low is None and spec.high is None, f"{name}: categorical takes no low/high")
        return
    require(spec.choices is None, f"{name}: {spec.type} takes low/high, not choices")
    require(spec.low is not None and spec.high is not None, f"{name}: needs both low and high")
    require(spec.low < spec.high, f"{name}: low must be < high, got [{spec.low}, {spec.high}]")
    require(not spec.log or spec.low > 0, f"{name}: a log scale needs low > 0, got {spec.low}")
    require(not (spec.log and spec.step), f"{name}: log and step cannot be combined")
    require(spec.step is None or spec.step > 0, f"{name}: step must be > 0, got {spec.step}")
    if spec.type == "int":
        ints = [v for v in (spec.low, spec.high, spec.step) if v is not None]
        require(all(float(v).is_integer() for v in ints), f"{name}: int needs whole numbers")


def ends(spec: ParamSpec) -> list[Any]:
    """The values worth checking against the config: a range's ends, or every choice."""
    if spec.type == "categorical":
        return list(spec.choices)
    bounds = [spec.low, spec.high]
    return [int(v) for v in bounds] if spec.type == "int" else bounds


def as_override(key: str, value: Any) -> str:
    """A Hydra override; JSON's literals (numbers, "strings", true, null) are Hydra's too."""
    return f"{key}={json.dumps(value)}"


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
    study.set_user_attr("mlflow_parent_run_id", parent.run_id)
    return parent


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


def suggest(trial: Trial, key: str, spec: ParamSpec) -> Any:
    if spec.type == "float":
        return trial.suggest_float(key, spec.low, spec.high, log=spec.log, step=spec.step)
    if spec.type == "int":
        step = int(spec.step or 1)
        return trial.suggest_int(key, int(spec.low), int(spec.high), log=spec.log, step=step)
    return trial.suggest_categorical(key, spec.choices)


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


def summary(study: optuna.Study) -> str:
    counts = {state.name.lower(): len(study.get_trials(states=(state,))) for state in TrialState}
    done = ", ".join(f"{n} {state}" for state, n in counts.items() if n)
    lines = [f"study {study.study_name}: {len(study.trials)} trials ({done})"]
    if counts["complete"]:
        best = study.best_trial
        params = " ".join(as_override(k, v) for k, v in best.params.items())
        lines += [f"best val accuracy {best.value:.4f} (trial {best.number}): {params}"]
    parent = study.user_attrs.get("mlflow_parent_run_id")
    lines += [f"compare the trials: python -m experiments.compare --sweep {parent}"]
    return "\n".join(lines)


if __name__ == "__main__":
    cli.cli(main, schema.CONFIG_ERRORS)
