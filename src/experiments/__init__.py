"""The experiment layer: Hydra configs in, handrec calls out, everything recorded in MLflow."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from handrec import quiet  # noqa: E402  (after the log level, before anything imports TensorFlow)

quiet.install()
