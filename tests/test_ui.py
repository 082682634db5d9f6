from experiments.schema import PROJECT_ROOT
from experiments.ui import ui_command


def test_ui_opens_the_projects_store_by_default():
    command = ui_command([], "127.0.0.1", 5000)
    uri = command[command.index("--backend-store-uri") + 1]
    assert uri == f"sqlite:///{PROJECT_ROOT}/mlruns/mlflow.db"
    assert (
        command[command.index("--default-artifact-root") + 1] == f"{PROJECT_ROOT}/mlruns/artifacts"
    )


def test_ui_follows_a_tracking_override():
    command = ui_command(["tracking.uri=sqlite:////tmp/x.db"], "0.0.0.0", 5001)
    assert command[1:4] == ["ui", "--backend-store-uri", "sqlite:////tmp/x.db"]
    assert command[command.index("--host") + 1] == "0.0.0.0"
    assert command[command.index("--port") + 1] == "5001"


def test_the_printed_link_opens_the_experiments_runs_in_the_training_view(tmp_path):
    from experiments.ui import experiment_link

    store = [f"tracking.uri=sqlite:///{tmp_path}/mlflow.db", "tracking.experiment=ui"]
    link = experiment_link(store, "http://127.0.0.1:5001")
    assert link.startswith("http://127.0.0.1:5001/#/experiments/1/runs?")
    assert "workflowType=machine_learning" in link and "viewStateShareKey=handrec" in link
