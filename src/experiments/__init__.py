"""The experiment layer: Hydra configs in, handrec calls out, everything recorded in MLflow."""
