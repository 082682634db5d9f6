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
