"""An interrupted run continues in the same MLflow run when the same config runs again, and
ends with the metrics of an uninterrupted run."""

import keras
import pytest
from mlflow import MlflowClient

from experiments.cli import Interrupted
from experiments.job import run
from tests.conftest import TINY


class StopAfterFirstEpoch(keras.callbacks.Callback):
    """Ctrl-C as the second epoch begins: the first is logged and backed up."""

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == 1:
            raise KeyboardInterrupt


def compose_run(root):
    """The tiny config, deterministic, tracked and checkpointed under `root`."""
    from hydra import compose, initialize_config_dir

    from experiments.schema import register
    from tests.conftest import CONF_DIR

    register()
    overrides = [
        *TINY,
        "train.epochs=2",
        "train.deterministic=true",
        f"tracking.uri=sqlite:///{root}/mlflow.db",
        f"tracking.artifact_root={root}/a",
        f"checkpoints={root}/ck",
    ]
    with initialize_config_dir(str(CONF_DIR), version_base="1.3"):
        return compose("config", overrides=overrides)


@pytest.fixture(scope="module")
def resumed(tmp_path_factory):
    root = tmp_path_factory.mktemp("resume")
    cfg = compose_run(root)
    client = MlflowClient(f"sqlite:///{root}/mlflow.db")
    with pytest.raises(Interrupted, match="interrupted after epoch 1 of 2: run the same command"):
        run(cfg, callbacks=[StopAfterFirstEpoch()])
    (killed,) = client.search_runs([client.get_experiment_by_name("handrec").experiment_id])
    run(cfg)
    return client, killed, root


def test_the_interrupted_run_ends_killed_and_keeps_its_checkpoint(resumed):
    _, killed, root = resumed
    assert killed.info.status == "KILLED"
    assert killed.data.metrics["val/accuracy"] >= 0


def test_running_the_same_config_again_finishes_the_same_run(resumed):
    client, killed, _ = resumed
    runs = client.search_runs([killed.info.experiment_id])
    assert [r.info.run_id for r in runs] == [killed.info.run_id]
    assert runs[0].info.status == "FINISHED"
    assert runs[0].data.tags["resumed_at_epoch"] == "2"


def test_the_resumed_run_holds_every_epoch_once(resumed):
    client, killed, _ = resumed
    steps = [m.step for m in client.get_metric_history(killed.info.run_id, "val/accuracy")]
    assert steps == [1, 2]


def test_a_completed_run_leaves_no_checkpoint(resumed):
    _, _, root = resumed
    assert list((root / "ck").iterdir()) == []


def test_the_resumed_run_ends_with_the_metrics_of_an_uninterrupted_run(resumed, tmp_path):
    client, killed, _ = resumed
    run(compose_run(tmp_path))
    other = MlflowClient(f"sqlite:///{tmp_path}/mlflow.db")
    (whole,) = other.search_runs([other.get_experiment_by_name("handrec").experiment_id])
    finished = client.get_run(killed.info.run_id)
    for name in ("test_accuracy", "test_macro_f1", "val/loss", "best_val_accuracy"):
        assert finished.data.metrics[name] == whole.data.metrics[name]
