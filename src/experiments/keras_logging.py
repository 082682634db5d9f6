"""What Keras hands to MLflow during a run: each epoch's metrics as it ends, the epoch a resumed
run starts at, and the trained model.

Apart from tracking.py because it needs Keras, and so TensorFlow: the commands that only check a
config or read the store (compare, ui, tune's and repeat's checks) start without them.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import keras
import mlflow
import numpy as np
import tensorflow as tf
from mlflow.models import infer_signature

from experiments.record import epoch_metrics
from handrec.inference import save_model


class EpochLogger(keras.callbacks.Callback):
    """Sends every epoch's metrics to the active MLflow run as they happen.

    Epochs up to `after` are in the run already: a process killed between logging an epoch
    and backing it up repeats that epoch when resumed, and its step stays logged once.
    """

    def __init__(self, after: int = 0) -> None:
        super().__init__()
        self.after = after

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if epoch + 1 > self.after:
            mlflow.log_metrics(epoch_metrics(logs or {}), step=epoch + 1)


class ResumedAt(keras.callbacks.Callback):
    """Tags a resumed run `resumed_at_epoch=N` as its first epoch N > 1 begins: before any
    later kill could lose it, and not at all when no epoch was left to run."""

    def __init__(self) -> None:
        super().__init__()
        self.first = True

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        if self.first and epoch > 0:
            mlflow.set_tag("resumed_at_epoch", str(epoch + 1))
        self.first = False


def log_model(
    model: keras.Model, classes: tuple[str, ...], example: np.ndarray, name: str = "model"
) -> str:
    """The Keras file (with its class names) and an MLflow model that pyfunc can load; returns
    the logged model's id, to link metrics to it.

    Log it before the test metrics: MLflow links a run's step-0 metrics to a model logged at
    step 0 by reading the history of every metric the run has, one query each (115 once the
    test metrics are in), where `log_metrics(model_id=...)` afterwards costs nothing. The
    signature is stored, not the example: with an example MLflow reloads the model to check
    that it serves it (0.4 s a run, a third of a sweep job's overhead); the tests do that once.
    """
    with tempfile.TemporaryDirectory() as tmp:
        save_model(model, classes, Path(tmp))
        mlflow.log_artifacts(tmp, artifact_path="keras")
    example = example.astype(np.float32)
    info = mlflow.tensorflow.log_model(
        model,
        name=name,
        signature=infer_signature(example, keras.ops.convert_to_numpy(model(example))),
        pip_requirements=[f"tensorflow=={tf.__version__}", f"keras=={keras.__version__}"],
    )
    return info.model_id
