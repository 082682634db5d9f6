"""`python -m experiments.compare` on a store of hand-made runs with known metrics."""

from __future__ import annotations

import mlflow
import pytest
from mlflow import MlflowClient

from experiments.compare import main
from tests.conftest import exit_status


class Constant(mlflow.pyfunc.PythonModel):
    def predict(self, context, model_input: list[str]) -> list[str]:
        return model_input


# name: (model.filters, val/accuracy per epoch, test_accuracy); the best by val is not by test.
CHILDREN = {
    "a": ("16", [0.5, 0.9], 0.70),
    "b": ("32", [0.8, 0.7], 0.95),
    "c": ("64", [0.6, 0.65], 0.60),
}


def log_run(
    experiment_id: str, name: str, filters: str, val: list[float], test: float, parent: str | None
) -> str:
    tags = {"mlflow.parentRunId": parent} if parent else {}
    with mlflow.start_run(experiment_id=experiment_id, run_name=name, tags=tags) as run:
        mlflow.log_params({"model.filters": filters, "train.epochs": "2"})
        for step, value in enumerate(val, start=1):
            mlflow.log_metric("val/accuracy", value, step=step)
        if name != "c":  # c ended before its summary: its best comes from the curve
            mlflow.log_metric("best_val_accuracy", max(val))
        mlflow.log_metrics({"test_accuracy": test, "test_macro_f1": test - 0.01})
        if name == "a":
            mlflow.pyfunc.log_model(name="model", python_model=Constant(), pip_requirements=[])
    return run.info.run_id


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """Experiment `cmp`: a parent with three children, and one run outside the sweep."""
    root = tmp_path_factory.mktemp("compare")
    uri = f"sqlite:///{root}/mlflow.db"
    mlflow.set_tracking_uri(uri)
    experiment_id = MlflowClient().create_experiment("cmp", (root / "artifacts").as_uri())
    parent = MlflowClient().create_run(
        experiment_id, run_name="sweep", tags={"handrec.sweep": "parent"}
    )
    parent_id = parent.info.run_id
    ids = {
        name: log_run(experiment_id, name, *values, parent_id) for name, values in CHILDREN.items()
    }
    ids["outside"] = log_run(experiment_id, "outside", "8", [0.99], 0.99, None)
    return [f"tracking.uri={uri}", "--experiment", "cmp"], parent_id, ids


def compare(capsys, store_args: list[str], *args: str) -> str:
    main([*store_args, *args])
    return capsys.readouterr().out


def run_order(output: str) -> list[str]:
    return [line.split()[0] for line in output.splitlines()[1:] if line.strip()]


def test_the_table_shows_only_the_params_that_differ(store, capsys):
    header = compare(capsys, store[0]).splitlines()[0].split()
    assert "model.filters" in header and "train.epochs" not in header
    assert header[-5:] == [
        "best_val_accuracy",
        "test_accuracy",
        "test_macro_f1",
        "duration_s",
        "status",
    ]


def test_runs_are_sorted_by_best_validation_accuracy_by_default(store, capsys):
    assert run_order(compare(capsys, store[0], "--sweep", store[1])) == ["a", "b", "c"]


def test_runs_can_be_sorted_by_test_accuracy(store, capsys):
    output = compare(capsys, store[0], "--sweep", store[1], "--sort", "test_accuracy")
    assert run_order(output) == ["b", "a", "c"]


def test_a_sweep_shows_its_children_but_not_the_parent_or_other_runs(store, capsys):
    assert sorted(run_order(compare(capsys, store[0], "--sweep", store[1]))) == ["a", "b", "c"]


def test_an_experiment_shows_all_its_runs_but_no_parent(store, capsys):
    assert sorted(run_order(compare(capsys, store[0]))) == ["a", "b", "c", "outside"]


def test_a_filter_string_narrows_the_runs(store, capsys):
    output = compare(capsys, store[0], "--filter", "params.model.filters = '32'")
    assert run_order(output) == ["b"]


def test_best_prints_the_run_id_and_its_model_uri(store, capsys):
    _, parent, ids = store
    output = compare(capsys, store[0], "--sweep", parent, "--best")
    assert f"run id: {ids['a']}" in output
    assert f"model URI: runs:/{ids['a']}/model" in output


def test_register_points_the_champion_alias_at_the_best_model(store, capsys):
    _, parent, ids = store
    compare(capsys, store[0], "--sweep", parent, "--register", "--name", "digits")
    version = MlflowClient().get_model_version_by_alias("digits", "champion")
    assert version.run_id == ids["a"]


def test_an_unknown_experiment_is_a_one_line_error(store, capsys):
    assert exit_status(main, store[0][0], "--experiment", "nope") == 2
    assert capsys.readouterr().err.startswith("error: no experiment 'nope'")


def test_an_unknown_sort_column_lists_the_choices(store, capsys):
    assert exit_status(main, *store[0], "--sort", "speed") == 2
    assert "cannot sort by 'speed': choose one of run, " in capsys.readouterr().err


def test_an_unknown_sweep_id_is_a_one_line_error(store, capsys):
    assert exit_status(main, *store[0], "--sweep", "deadbeef") == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --sweep deadbeef: no such run in sqlite:///")
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_a_malformed_filter_is_a_one_line_error(store, capsys):
    assert exit_status(main, *store[0], "--filter", "params.model.filters ==") == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --filter 'params.model.filters ==' is not an MLflow search")
    assert len(err.strip().splitlines()) == 1


def test_a_mistyped_sqlite_path_is_reported_and_creates_no_store(tmp_path, capsys):
    missing = tmp_path / "typo" / "mlflow.db"
    assert exit_status(main, f"tracking.uri=sqlite:///{missing}") == 2
    assert f"no tracking store at {missing}" in capsys.readouterr().err
    assert not missing.exists() and not missing.parent.exists()


def test_a_run_without_a_summary_is_ranked_by_the_best_epoch_of_its_curve(store, capsys):
    output = compare(capsys, store[0], "--sweep", store[1])
    (row,) = [line.split() for line in output.splitlines() if line.split()[:1] == ["c"]]
    assert "0.65" in row
