"""The experiment layer: Hydra configs in, handrec calls out, everything recorded in MLflow."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# A model's few files download in a blink: MLflow's progress bars only bury the answer.
os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")

from handrec import quiet  # noqa: E402  (after the log level, before anything imports TensorFlow)

quiet.install()
