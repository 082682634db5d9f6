"""`python -m experiments.tune`: the search space, the study loop, pruning, and an end-to-end
search that is resumed."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path
from types import SimpleNamespace

import mlflow
import optuna
import pytest
from mlflow import MlflowClient
from optuna.trial import TrialState

from experiments.schema import PROJECT_ROOT, compose_config
from experiments.tune.search import main
from experiments.tune.settings import SearchError, SearchSpec, compose_search
from experiments.tune.space import ParamSpec, as_override, check_space, ends, with_value
from experiments.tune.study import PruneTrial, load_study, open_study, optimize
from handrec.errors import ConfigError
from tests.conftest import TINY, exit_status, run_module

PRESETS = sorted(p.stem for p in (PROJECT_ROOT / "conf" / "hparams_search").glob("*.yaml"))


def space_check(*search_overrides: str) -> None:
    search = compose_search("optuna", list(search_overrides))
    check_space(search.space, compose_config([]), [])


@pytest.mark.parametrize("preset", PRESETS)
def test_a_shipped_preset_names_only_valid_keys_and_ranges(preset):
    search = compose_search(preset, [])
    check_space(search.space, compose_config([]), [])


def test_an_unknown_key_is_refused_with_the_likely_one():
    with pytest.raises(ConfigError, match=r"space.model.filtrs is not a key.*model.filters\?"):
        space_check("++hparams_search.space={model.filtrs:{type:int,low:8,high:64}}")


def test_an_empty_range_is_refused():
    with pytest.raises(ConfigError, match=r"model.dropout: low must be < high, got \[0.5, 0.1\]"):
        space_check("hparams_search.space={model.dropout:{low:0.5,high:0.1}}")


def test_a_log_range_from_zero_is_refused():
    with pytest.raises(ConfigError, match="train.learning_rate: a log scale needs low > 0"):
        space_check("hparams_search.space={train.learning_rate:{low:0.0}}")


def test_an_end_of_a_range_the_config_refuses_is_named():
    with pytest.raises(ConfigError, match=r"model.dropout: 1.5 is refused: model.dropout must"):
        space_check("hparams_search.space={model.dropout:{high:1.5}}")


def test_an_end_set_on_the_base_config_is_the_config_hydra_composes_for_it():
    base = compose_config(["model.dense_units=32"])
    for key, spec in compose_search("optuna", []).space.items():
        for value in ends(spec):
            composed = compose_config(["model.dense_units=32", as_override(key, value)])
            assert with_value(base, key, value, ["model.dense_units=32"]) == composed, key


def test_a_config_group_option_the_config_lacks_is_refused_by_name():
    space = {"model": ParamSpec("categorical", choices=["cnn", "nope"])}
    with pytest.raises(ConfigError, match=r"space.model: 'nope' is refused: .*'model/nope'"):
        check_space(space, compose_config([]), [])


def test_null_takes_a_key_out_of_the_space():
    search = compose_search("optuna", ["hparams_search.space={model.dropout:null}"])
    assert "model.dropout" not in search.space and "model.filters" in search.space


def test_a_bad_search_fails_in_one_line_before_any_trial(capsys):
    space = "++hparams_search.space={model.filtrs:{type:int,low:8,high:64}}"
    assert exit_status(main, space) == 2
    assert capsys.readouterr().err.startswith("error: hparams_search.space.model.filtrs is not")


def test_an_unknown_preset_lists_the_presets(capsys):
    assert exit_status(main, "hparams_search=nope") == 2
    assert "no search preset hparams_search=nope: choose one of" in capsys.readouterr().err


def in_memory(n_trials: int, max_failures: int = 3) -> tuple[optuna.Study, SearchSpec]:
    search = SearchSpec(
        storage="sqlite://",
        n_trials=n_trials,
        max_failures=max_failures,
        space={"x": ParamSpec("float", 0, 1)},
    )
    return optuna.create_study(direction="maximize"), search


def test_a_crashing_trial_counts_as_failed_and_the_search_goes_on():
    study, search = in_memory(n_trials=2)

    def trial_run(trial):
        if trial.number == 0:
            raise RuntimeError("boom")
        return 0.5

    optimize(study, trial_run, search)
    assert [t.state for t in study.trials] == [
        TrialState.FAIL,
        TrialState.COMPLETE,
        TrialState.COMPLETE,
    ]


def test_the_search_stops_once_failures_exceed_the_budget():
    study, search = in_memory(n_trials=5, max_failures=1)

    def trial_run(trial):
        raise RuntimeError("boom")

    assert optimize(study, trial_run, search).exceeded
    assert len(study.trials) == 2


def test_pruned_trials_count_towards_the_budget():
    study, search = in_memory(n_trials=2)

    def trial_run(trial):
        raise optuna.TrialPruned()

    optimize(study, trial_run, search)
    assert [t.state for t in study.trials] == [TrialState.PRUNED] * 2


def test_a_resumed_study_runs_only_the_remaining_trials():
    study, search = in_memory(n_trials=2)
    optimize(study, lambda trial: 0.5, search)
    search.n_trials = 3
    optimize(study, lambda trial: 0.5, search)
    optimize(study, lambda trial: 0.5, search)
    assert len(study.trials) == 3


def stored_search(tmp_path: Path) -> SearchSpec:
    return compose_search("optuna", [f"hparams_search.storage=sqlite:///{tmp_path}/optuna.db"])


def test_a_study_resumed_with_other_overrides_is_refused(tmp_path):
    open_study(stored_search(tmp_path), ["model.filters=8"])
    with pytest.raises(SearchError, match="was started with other overrides"):
        open_study(stored_search(tmp_path), ["model.filters=16"])


def first_sample(tmp_path: Path, worker: int) -> float:
    search = stored_search(tmp_path)
    open_study(search, [])
    study = load_study(search, worker)
    trial = study.ask()
    value = trial.suggest_float("x", 0, 1)
    study.tell(trial, value)
    return value


def test_a_resumed_study_does_not_replay_its_first_samples(tmp_path):
    assert first_sample(tmp_path, 0) != first_sample(tmp_path, 0)


def test_workers_that_count_the_trials_differently_draw_different_samples(tmp_path):
    search = stored_search(tmp_path)
    search.workers = 2
    open_study(search, [])
    second = load_study(search, 1)
    optuna.load_study(study_name=search.study_name, storage=search.storage).ask()
    first = load_study(search, 0)
    samples = [study.ask().suggest_float("x", 0, 1) for study in (first, second)]
    assert samples[0] != samples[1]


@pytest.fixture
def pruning(tmp_path):
    """A trial after one that reached 0.9 at epoch 1, inside an MLflow run."""
    study = optuna.create_study(
        direction="maximize", pruner=optuna.pruners.MedianPruner(1, n_warmup_steps=0)
    )
    first = study.ask()
    first.report(0.9, step=1)
    study.tell(first, 0.9)
    callback = PruneTrial(study.ask())
    callback.set_model(SimpleNamespace(stop_training=False))
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path}/mlflow.db")
    with mlflow.start_run(experiment_id=mlflow.create_experiment("prune")) as run:
        callback.on_train_begin()
        yield callback, run.info.run_id


def test_a_trial_worse_than_the_median_stops_training_and_is_tagged_pruned(pruning):
    callback, run_id = pruning
    callback.on_epoch_end(0, {"val_accuracy": 0.1})
    assert callback.pruned and callback.model.stop_training
    assert MlflowClient().get_run(run_id).data.tags["optuna.pruned"] == "true"


def test_a_trial_that_keeps_up_trains_on(pruning):
    callback, run_id = pruning
    callback.on_epoch_end(0, {"val_accuracy": 0.95})
    assert not callback.pruned and not callback.model.stop_training
    assert "optuna.pruned" not in MlflowClient().get_run(run_id).data.tags


def search_args(root: Path, n_trials: int) -> list[str]:
    """A tiny two-epoch search over a narrowed space, its study and runs under root."""
    tiny = [a for a in TINY if not a.startswith(("model.filters=", "train.epochs="))]
    return [
        f"hparams_search.n_trials={n_trials}",
        f"hparams_search.storage=sqlite:///{root}/optuna.db",
        "hparams_search.study_name=e2e",
        "hparams_search.pruner.n_startup_trials=1",
        "hparams_search.space={model.filters:{choices:[2,4]},train.batch_size:{choices:[64]}}",
        "train.epochs=2",
        *tiny,
        f"tracking.uri=sqlite:///{root}/mlflow.db",
        f"tracking.artifact_root={root}/artifacts",
        "tracking.experiment=tune",
    ]


@pytest.fixture(scope="module")
def search(tmp_path_factory):
    """One trial from the command line, then the same search with a budget of two, resumed
    in this process (which has TensorFlow loaded already)."""
    root = tmp_path_factory.mktemp("tune")
    tune_command(root, *search_args(root, 1))
    with contextlib.redirect_stdout(io.StringIO()) as resumed:
        main(search_args(root, 2))
    return resumed.getvalue(), *recorded(root)


def tune_command(root: Path, *args: str) -> None:
    """`python -m experiments.tune args` in a fresh process, which must succeed."""
    done = run_module("experiments.tune", root, *args, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]


def recorded(root: Path) -> tuple[list, optuna.Study]:
    """The runs of the search under root, and its study."""
    client = MlflowClient(f"sqlite:///{root}/mlflow.db")
    runs = client.search_runs([client.get_experiment_by_name("tune").experiment_id])
    return runs, optuna.load_study(study_name="e2e", storage=f"sqlite:///{root}/optuna.db")


def trials_of(runs: list) -> list:
    return sorted(
        (r for r in runs if "mlflow.parentRunId" in r.data.tags),
        key=lambda r: int(r.data.tags["optuna.trial"]),
    )


def test_a_resumed_search_continues_the_same_study_under_the_same_parent(search):
    _, runs, study = search
    (parent,) = [r for r in runs if r.data.tags.get("handrec.sweep") == "parent"]
    assert len(study.trials) == 2
    assert {r.data.tags["mlflow.parentRunId"] for r in trials_of(runs)} == {parent.info.run_id}
    assert parent.info.status == "FINISHED"


def test_each_trial_is_a_finished_run_of_its_sampled_values(search):
    _, runs, study = search
    for run, trial in zip(trials_of(runs), study.trials, strict=True):
        assert run.info.status == "FINISHED"
        assert run.data.params["model.filters"] == str(trial.params["model.filters"])
        assert run.data.tags.get("optuna.pruned") == (
            "true" if trial.state == TrialState.PRUNED else None
        )


def test_the_parent_run_holds_the_best_value_and_params(search):
    _, runs, study = search
    (parent,) = [r for r in runs if r.data.tags.get("handrec.sweep") == "parent"]
    assert parent.data.metrics["best_val_accuracy"] == pytest.approx(study.best_value)
    assert parent.data.tags["best.model.filters"] == str(study.best_params["model.filters"])
    assert parent.data.tags["best_run_id"] == study.best_trial.user_attrs["mlflow_run_id"]


def test_a_search_prints_the_best_trial_and_how_to_compare(search):
    output, _, study = search
    assert f"best val accuracy {study.best_value:.4f}" in output
    assert "python -m experiments.compare --sweep" in output


@pytest.fixture(scope="module")
def parallel_search(tmp_path_factory):
    """A search of two trials run by two worker processes at once."""
    root = tmp_path_factory.mktemp("tune-parallel")
    tune_command(
        root,
        *search_args(root, 2),
        "hparams_search.workers=2",
        "hparams_search.pruner.n_startup_trials=2",
    )
    return recorded(root)


def test_parallel_workers_share_one_study_under_one_parent(parallel_search):
    runs, study = parallel_search
    (parent,) = [r for r in runs if r.data.tags.get("handrec.sweep") == "parent"]
    trials = trials_of(runs)
    assert len(trials) == len(study.trials) >= 2
    assert {r.data.tags["mlflow.parentRunId"] for r in trials} == {parent.info.run_id}
    assert {r.info.status for r in trials} == {"FINISHED"} and parent.info.status == "FINISHED"


def test_a_worker_count_below_one_is_refused():
    with pytest.raises(ConfigError, match="hparams_search.workers must be >= 1, got 0"):
        compose_search("optuna", ["hparams_search.workers=0"])
