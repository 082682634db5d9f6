"""`python -m experiments.repeat`: seeds × folds as child runs, summed up on the parent."""

from __future__ import annotations

import contextlib
import io

import pytest
from mlflow import MlflowClient

from experiments import job
from experiments.repeat import main, run_variant, split_seeds, variants
from experiments.sweep import ParentRun
from handrec.errors import ConfigError
from tests.conftest import TINY


@pytest.mark.parametrize("seeds", ["seeds=[3,4]", "seeds=3,4"])
def test_seeds_are_taken_apart_from_the_config_overrides(seeds):
    assert split_seeds([seeds, "model.filters=8"]) == ([3, 4], ["model.filters=8"])


def test_every_seed_runs_with_every_fold():
    assert variants([1, 2], 2) == [
        ["seed=1", "data.split.fold=0"],
        ["seed=1", "data.split.fold=1"],
        ["seed=2", "data.split.fold=0"],
        ["seed=2", "data.split.fold=1"],
    ]


def test_folds_alone_run_each_fold_once():
    assert variants([], 3) == [[f"data.split.fold={k}"] for k in range(3)]


@pytest.mark.parametrize("folds", [0, 1])
def test_without_seeds_or_folds_there_is_nothing_to_repeat(folds):
    with pytest.raises(ConfigError, match="nothing to repeat"):
        variants([], folds)


def test_a_failing_repeat_is_counted_and_does_not_stop_the_others(monkeypatch):
    def crash(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(job, "run", crash)
    assert not run_variant([], ["seed=1"], ParentRun("unused"))


@pytest.fixture(scope="module")
def folds(tmp_path_factory):
    """Two folds of the tiny config, run in this process (which has TensorFlow loaded)."""
    root = tmp_path_factory.mktemp("repeat")
    with contextlib.redirect_stdout(io.StringIO()) as output:
        main(
            [
                "data.split.folds=2",
                *TINY,
                f"tracking.uri=sqlite:///{root}/mlflow.db",
                f"tracking.artifact_root={root}/artifacts",
                "tracking.experiment=repeat",
            ]
        )
    client = MlflowClient(f"sqlite:///{root}/mlflow.db")
    runs = client.search_runs([client.get_experiment_by_name("repeat").experiment_id])
    (parent,) = [r for r in runs if r.data.tags.get("handrec.sweep") == "parent"]
    children = [r for r in runs if "mlflow.parentRunId" in r.data.tags]
    return output.getvalue(), parent, children


def test_each_fold_is_a_finished_child_run(folds):
    _, parent, children = folds
    assert sorted(r.data.params["data.split.fold"] for r in children) == ["0", "1"]
    assert {r.info.status for r in children} == {"FINISHED"}
    assert {r.data.tags["mlflow.parentRunId"] for r in children} == {parent.info.run_id}


def test_the_parent_holds_mean_and_std_of_the_metrics(folds):
    _, parent, children = folds
    test_accuracy = [r.data.metrics["test_accuracy"] for r in children]
    assert parent.data.metrics["test_accuracy_mean"] == pytest.approx(sum(test_accuracy) / 2)
    for name in ("best_val_accuracy", "test_accuracy", "test_macro_f1"):
        assert f"{name}_std" in parent.data.metrics
    assert parent.info.status == "FINISHED"


def test_the_summary_prints_mean_plus_minus_std(folds):
    output, parent, _ = folds
    assert "test_accuracy" in output and "±" in output
    assert f"--sweep {parent.info.run_id}" in output


def test_the_parent_describes_the_repeat_and_holds_its_overrides(folds):
    _, parent, children = folds
    note = parent.data.tags["mlflow.note.content"]
    assert note.startswith("**repeat 2x") and "of 2 runs (2 finished)" in note
    assert "| test_accuracy |" in note
    assert parent.data.params["data.split.folds"] == "2"
    best = max(children, key=lambda r: r.data.metrics["best_val_accuracy"])
    assert parent.data.tags["best_run_id"] == best.info.run_id
