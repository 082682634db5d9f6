"""End to end: the real `python -m experiments.run`, tiny data, checked through MLflow's records."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import mlflow
import numpy as np
import pytest
import requests
from mlflow import MlflowClient

from experiments.ranking import model_uri
from tests.conftest import TINY, run_module


def run_entrypoint(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    """Runs from an unrelated working directory: nothing may depend on it."""
    return run_module("experiments.run", cwd, *args)


def store_args(root: Path) -> list[str]:
    return [
        f"tracking.uri=sqlite:///{root}/mlflow.db",
        f"tracking.artifact_root={root}/artifacts",
        "tracking.experiment=e2e",
    ]


def runs_of(root: Path) -> list:
    client = MlflowClient(f"sqlite:///{root}/mlflow.db")
    experiment = client.get_experiment_by_name("e2e")
    return client.search_runs([experiment.experiment_id])


@pytest.fixture(scope="module")
def single(tmp_path_factory):
    root = tmp_path_factory.mktemp("single")
    done = run_entrypoint(root, *TINY, *store_args(root))
    assert done.returncode == 0, done.stderr[-3000:]
    (run,) = runs_of(root)
    return root, done, run


def test_a_run_finishes_and_prints_a_summary(single):
    _, done, run = single
    assert run.info.status == "FINISHED"
    assert "test accuracy" in done.stdout and run.info.run_id in done.stdout
    assert "make ui" in done.stdout


def test_a_run_records_the_resolved_config_as_params(single):
    _, _, run = single
    params = run.data.params
    assert params["model.filters"] == "4"
    assert params["model.name"] == "seed_cnn"
    assert params["data.split.seed"] == "0"
    assert params["tracking.experiment"] == "e2e"


def test_a_run_records_grouped_curves_and_summary_metrics_in_at_most_12_charts(single):
    root, _, run = single
    assert set(run.data.metrics) == {
        "train/loss",
        "train/accuracy",
        "val/loss",
        "val/accuracy",
        "train/log10_learning_rate",
        "best_val_accuracy",
        "best_epoch",
        "test_accuracy",
        "test_macro_f1",
        "training_seconds",
        "samples_per_second",
    }
    history = MlflowClient(f"sqlite:///{root}/mlflow.db").get_metric_history(
        run.info.run_id, "val/accuracy"
    )
    assert [m.step for m in history] == [1]
    assert run.data.metrics["best_val_accuracy"] == history[0].value
    assert run.data.metrics["best_epoch"] == 1
    assert run.data.metrics["train/log10_learning_rate"] == pytest.approx(-3)


def test_a_run_records_per_class_scores_as_a_table(single):
    root, _, run = single
    mlflow.set_tracking_uri(f"sqlite:///{root}/mlflow.db")
    mlflow.set_experiment(experiment_id=run.info.experiment_id)
    table = mlflow.load_table("per_class.json", run_ids=[run.info.run_id])
    assert list(table["class"]) == list("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    assert {"precision", "recall", "f1", "support"} <= set(table.columns)
    assert table["support"].sum() == int(run.data.params["data.n_test"])


def test_a_run_records_its_train_val_and_test_data_as_inputs(single):
    _, _, run = single
    inputs = {
        next(t.value for t in i.tags if t.key == "mlflow.data.context"): i.dataset
        for i in run.inputs.dataset_inputs
    }
    assert set(inputs) == {"training", "validation", "testing"}
    assert {d.name for d in inputs.values()} == {"sample"}
    assert len({d.digest for d in inputs.values()}) == 3
    profile = json.loads(inputs["training"].profile)
    assert profile["num_rows"] == int(run.data.params["data.n_train"])
    assert json.loads(inputs["training"].source) == {"uris": ["handrec:sample"]}


def test_the_same_data_gives_the_same_dataset_digest(single, tmp_path):
    _, _, run = single
    again = run_entrypoint(tmp_path, *TINY, "model.filters=2", *store_args(tmp_path))
    assert again.returncode == 0, again.stderr[-2000:]
    (other,) = runs_of(tmp_path)
    digests = [{i.dataset.digest for i in r.inputs.dataset_inputs} for r in (run, other)]
    assert digests[0] == digests[1]


def test_the_experiment_opens_in_the_training_view(single):
    root, done, run = single
    experiment = MlflowClient(f"sqlite:///{root}/mlflow.db").get_experiment(run.info.experiment_id)
    assert experiment.tags["mlflow.experimentKind"] == "custom_model_development"
    assert f"runs/{run.info.run_id}?workflowType=machine_learning" in done.stdout


def test_a_run_records_tags_for_commit_and_data(single):
    _, _, run = single
    tags = run.data.tags
    assert tags["data.source"] == "sample"
    assert tags["mlflow.note.content"].startswith("**seed_cnn** trained on **sample**")
    assert len(tags["data.fingerprint"]) == 16
    assert tags["git_commit"]


def test_a_run_stores_config_plots_report_and_keras_model(single):
    root, _, run = single
    names = {
        a.path for a in MlflowClient(f"sqlite:///{root}/mlflow.db").list_artifacts(run.info.run_id)
    }
    assert {
        "config.yaml",
        "confusion_matrix.png",
        "learning_curves.png",
        "classification_report.txt",
        "keras",
    } <= names
    assert Path(run.info.artifact_uri.removeprefix("file://")).is_relative_to(root / "artifacts")


def test_the_logged_model_loads_with_pyfunc_and_predicts(single):
    root, _, run = single
    mlflow.set_tracking_uri(f"sqlite:///{root}/mlflow.db")
    model = mlflow.pyfunc.load_model(model_uri(run.info.run_id))
    probabilities = np.asarray(model.predict(np.zeros((3, 28, 28), np.float32)))
    assert probabilities.shape == (3, 36)
    assert np.allclose(probabilities.sum(axis=1), 1, atol=1e-4)


def test_the_logged_model_carries_the_test_metrics(single):
    root, _, run = single
    client = MlflowClient(f"sqlite:///{root}/mlflow.db")
    (model,) = client.search_logged_models([run.info.experiment_id])
    linked = {metric.key: metric.value for metric in model.metrics}
    assert linked["test_accuracy"] == run.data.metrics["test_accuracy"]
    assert linked["best_val_accuracy"] == run.data.metrics["best_val_accuracy"]
    assert model.name == f"seed_cnn-sample-{run.info.run_id[:8]}"


def test_logging_the_model_prints_no_progress_bar(single):
    _, done, _ = single
    assert "━" not in done.stdout + done.stderr


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    """Two jobs, the first of which fails inside its run (too few digits to split)."""
    root = tmp_path_factory.mktemp("sweep")
    args = [a for a in TINY if "digits_per_class" not in a]
    done = run_entrypoint(
        root, "--multirun", "data.sources.sample.digits_per_class=1,12", *args, *store_args(root)
    )
    return done, runs_of(root)


def test_a_sweep_groups_its_jobs_under_one_parent_run(sweep):
    _, runs = sweep
    parents = [r for r in runs if r.data.tags.get("handrec.sweep") == "parent"]
    children = [r for r in runs if "mlflow.parentRunId" in r.data.tags]
    assert len(parents) == 1 and len(children) == 2
    assert {c.data.tags["mlflow.parentRunId"] for c in children} == {parents[0].info.run_id}


def test_a_failing_job_ends_failed_and_the_sweep_goes_on(sweep):
    done, runs = sweep
    status = {r.info.run_name: r.info.status for r in runs if "mlflow.parentRunId" in r.data.tags}
    assert status == {
        "data.sources.sample.digits_per_class=1": "FAILED",
        "data.sources.sample.digits_per_class=12": "FINISHED",
    }
    assert done.returncode != 0


def test_a_sweep_with_a_failed_job_closes_its_parent_as_failed(sweep):
    _, runs = sweep
    (parent,) = [r for r in runs if r.data.tags.get("handrec.sweep") == "parent"]
    assert parent.info.status == "FAILED"
    assert parent.data.tags["jobs_failed"] == "1"


def test_a_bad_value_fails_in_one_line_before_any_run(tmp_path):
    done = run_entrypoint(tmp_path, "model.filters=0", *store_args(tmp_path))
    assert done.returncode == 2
    assert "error: model.filters must be >= 1, got 0" in done.stderr
    assert "Traceback" not in done.stderr


def test_an_unknown_option_lists_the_valid_choices(tmp_path):
    done = run_entrypoint(tmp_path, "model=nope", *store_args(tmp_path))
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "error: In 'config': Could not find 'model/nope' "
        "(Available options in 'model': cnn resnet seed_cnn)"
    )


def test_a_misspelt_key_is_one_line_naming_the_key_and_exit_2(tmp_path):
    done = run_entrypoint(tmp_path, "model.filtrs=3", *store_args(tmp_path))
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert "Key 'filtrs' not in 'SeedCnnParams'" in done.stderr


def test_help_is_hydras_template_with_the_composed_config(tmp_path):
    done = run_entrypoint(tmp_path, "--help", "model=cnn")
    assert done.returncode == 0
    assert "model: cnn, resnet, seed_cnn" in done.stdout
    assert "model:\n  name: cnn" in done.stdout


def test_a_run_uri_resolves_to_a_loadable_keras_model(single):
    from experiments.models import resolve_model
    from handrec.inference import Predictor

    root, _, run = single
    path = resolve_model(f"runs:/{run.info.run_id}/model", f"sqlite:///{root}/mlflow.db")
    predictor = Predictor.load(path / "model.keras")
    assert "".join(predictor.labels.classes) == "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def test_a_registry_alias_resolves_to_its_runs_model(single):
    from experiments.models import resolve_model

    root, _, run = single
    uri = f"sqlite:///{root}/mlflow.db"
    mlflow.set_tracking_uri(uri)
    version = mlflow.register_model(model_uri(run.info.run_id), "e2e-model")
    MlflowClient(uri).set_registered_model_alias("e2e-model", "champion", version.version)
    assert (resolve_model("models:/e2e-model@champion", uri) / "classes.txt").exists()


def test_an_unknown_run_is_reported_as_not_found(single):
    from experiments.models import ModelNotFound, resolve_model

    root, _, _ = single
    with pytest.raises(ModelNotFound, match="no model at runs:/0123abcd"):
        resolve_model("runs:/0123abcd/model", f"sqlite:///{root}/mlflow.db")


def test_a_sweep_parent_holds_its_overrides_best_child_and_a_description(sweep):
    _, runs = sweep
    (parent,) = [r for r in runs if r.data.tags.get("handrec.sweep") == "parent"]
    (best,) = [r for r in runs if r.info.status == "FINISHED"]
    assert parent.data.params["data.sources.sample.digits_per_class"] == "1,12"
    assert parent.data.tags["best_run_id"] == best.info.run_id
    for name in ("best_val_accuracy", "test_accuracy", "test_macro_f1"):
        assert parent.data.metrics[name] == best.data.metrics[name]
    note = parent.data.tags["mlflow.note.content"]
    assert "2 runs (1 failed, 1 finished)" in note and best.info.run_id in note


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_logged_model_serves_class_probabilities_over_http(single):
    """`mlflow models serve --env-manager local` on loopback, asked as the README shows."""
    root, _, run = single
    mlflow.set_tracking_uri(f"sqlite:///{root}/mlflow.db")
    port = free_port()
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "mlflow"),
            "models",
            "serve",
            "-m",
            model_uri(run.info.run_id),
            "--env-manager",
            "local",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        env={
            **os.environ,
            "MLFLOW_TRACKING_URI": f"sqlite:///{root}/mlflow.db",
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",  # uvicorn
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            try:
                if requests.get(f"http://127.0.0.1:{port}/ping", timeout=2).ok:
                    break
            except requests.ConnectionError:
                time.sleep(1)
        images = np.zeros((2, 28, 28), np.float32).tolist()
        answer = requests.post(
            f"http://127.0.0.1:{port}/invocations", json={"inputs": images}, timeout=60
        )
        probabilities = np.asarray(answer.json()["predictions"])
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    assert probabilities.shape == (2, 36)
    assert np.allclose(probabilities.sum(axis=1), 1, atol=1e-4)


def test_system_metrics_are_sampled_by_default_without_the_samplers_own_lines(
    tmp_path, monkeypatch
):
    monkeypatch.setenv("MLFLOW_SYSTEM_METRICS_SAMPLING_INTERVAL", "1")
    done = run_entrypoint(tmp_path, *TINY, *store_args(tmp_path))
    assert done.returncode == 0, done.stderr[-2000:]
    (run,) = runs_of(tmp_path)
    assert "system/cpu_utilization_percentage" in run.data.metrics
    assert "system_metrics_monitor" not in done.stdout + done.stderr


def test_a_registered_champion_is_evaluated_on_its_own_logged_model(single, capsys):
    from experiments.evaluate import main as evaluate
    from experiments.ranking import register

    root, _, run = single
    uri = f"sqlite:///{root}/mlflow.db"
    mlflow.set_tracking_uri(uri)
    register(run.info.run_id, "e2e-eval")
    sample = ["data.sources.sample.digits_per_class=6", "data.sources.sample.letters_per_class=6"]
    evaluate(["--model", "models:/e2e-eval@champion", *sample, *store_args(root)])
    client = MlflowClient(uri)
    (model,) = client.search_logged_models(
        [run.info.experiment_id], filter_string=f"source_run_id = '{run.info.run_id}'"
    )
    assert ("sample", "accuracy") in {(m.dataset_name, m.key) for m in model.metrics}
