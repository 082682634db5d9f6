import subprocess
import sys
import textwrap

from experiments.schema import PROJECT_ROOT
from experiments.ui import ui_command

# What `python -m experiments.ui` does before it hands over to `mlflow ui`; prints the machine
# learning libraries loaded by then.
BEFORE_THE_SERVER = textwrap.dedent(
    """
    import sys
    from experiments.ui import experiment_link, ui_command

    store = [f"tracking.uri=sqlite:///{sys.argv[1]}/mlflow.db"]
    ui_command(store, "127.0.0.1", 5000)
    experiment_link(store, "http://127.0.0.1:5000")
    print(sorted({name.split(".")[0] for name in sys.modules} & {"tensorflow", "keras"}))
    """
)


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


def test_starting_the_ui_loads_neither_tensorflow_nor_keras(tmp_path):
    result = subprocess.run(
        [sys.executable, "-c", BEFORE_THE_SERVER, str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == "[]"
