"""The experiment layer: Hydra configs in, handrec calls out, everything recorded in MLflow."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
