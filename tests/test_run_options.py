"""Run options that only show in training, exercised through the real run()."""

from mlflow import MlflowClient

from experiments.job import run
from tests.conftest import TINY


def test_class_weight_balancing_trains_and_is_recorded(compose_config, tmp_path, monkeypatch):
    """Keras applies the weights inside model.fit; a spy on it sees what the run passed."""
    seen = {}
    import handrec.training.fit as fit_module

    original = fit_module.keras.Model.fit

    def spy(self, *args, **kwargs):
        seen["class_weight"] = kwargs.get("class_weight")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(fit_module.keras.Model, "fit", spy)
    cfg = compose_config(
        *TINY,
        "data.balance=class_weight",
        f"tracking.uri=sqlite:///{tmp_path}/mlflow.db",
        f"tracking.artifact_root={tmp_path}/a",
        f"checkpoints={tmp_path}/ck",
    )
    run(cfg)
    assert set(seen["class_weight"]) == set(range(36))
    client = MlflowClient(f"sqlite:///{tmp_path}/mlflow.db")
    (recorded,) = client.search_runs([client.get_experiment_by_name("handrec").experiment_id])
    assert recorded.info.status == "FINISHED"
    assert recorded.data.params["data.balance"] == "class_weight"
