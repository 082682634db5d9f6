"""What a command prints is its own: TensorFlow's start-up lines and MLflow's download progress
bars are left out; every other line stays."""

from __future__ import annotations

import subprocess
import sys

from handrec.quiet import without_start_up_lines

ABSL = b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
ONEDNN = (
    b"I0000 00:00:1796224064.385463    7018 port.cc:153] oneDNN custom operations are on. "
    b"You may see slightly different numerical results.\n"
)


def stderr_of(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return done.stderr


def test_the_absl_and_onednn_start_up_lines_are_dropped():
    assert without_start_up_lines(ABSL + ONEDNN + ABSL + ONEDNN) == b""


def test_other_lines_written_beside_them_are_kept_in_order():
    captured = b"first\n" + ABSL + b"E0000 real failure in port.cc\n" + ONEDNN + b"last"
    assert without_start_up_lines(captured) == b"first\nE0000 real failure in port.cc\nlast"


def test_what_the_filtered_descriptor_receives_reaches_stderr_less_the_start_up_lines():
    written = ABSL + b"kept\n" + ONEDNN
    code = (
        "import os\nfrom handrec.quiet import start_up_lines_dropped\n"
        f"with start_up_lines_dropped():\n    os.write(2, {written!r})\n"
    )
    assert stderr_of(code) == "kept\n"


def test_importing_tensorflow_through_the_experiment_layer_prints_no_start_up_lines():
    err = stderr_of("import experiments, tensorflow as tf; assert int(tf.constant(2)) == 2")
    assert "oneDNN" not in err
    assert "absl::InitializeLog" not in err


def test_downloading_a_runs_artifacts_draws_no_progress_bar(tmp_path):
    (tmp_path / "classes.txt").write_text("0\n1\n")
    code = (
        "import experiments, mlflow\n"
        f"mlflow.set_tracking_uri('sqlite:///{tmp_path}/m.db')\n"
        f"experiment = mlflow.create_experiment('q', artifact_location='{tmp_path}/art')\n"
        "with mlflow.start_run(experiment_id=experiment) as run:\n"
        f"    mlflow.log_artifact('{tmp_path}/classes.txt', 'keras')\n"
        "mlflow.artifacts.download_artifacts(f'runs:/{run.info.run_id}/keras', "
        f"dst_path='{tmp_path}/out')\n"
    )
    assert "Downloading artifacts" not in stderr_of(code)
