"""The training schedule and the fit loop."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass

import keras

from handrec.data.dataset import Dataset
from handrec.errors import require
from handrec.training.pipeline import batches

OPTIMIZERS = {
    "adam": keras.optimizers.Adam,
    "adamw": keras.optimizers.AdamW,
    "sgd": keras.optimizers.SGD,
    "rmsprop": keras.optimizers.RMSprop,
}


@dataclass
class TrainSpec:
    """A training schedule; the defaults are the original project's (Adam 1e-3, batch 200)."""

    epochs: int = 5
    batch_size: int = 200
    optimizer: str = "adam"
    learning_rate: float = 1e-3
    verbose: int | None = None  # None: a progress bar on a terminal, a line per epoch otherwise

    def __post_init__(self) -> None:
        require(self.epochs >= 1, f"train.epochs must be >= 1, got {self.epochs}")
        require(self.batch_size >= 1, f"train.batch_size must be >= 1, got {self.batch_size}")
        require(
            self.optimizer in OPTIMIZERS,
            f"train.optimizer must be one of {', '.join(OPTIMIZERS)}, got {self.optimizer!r}",
        )
        require(
            self.learning_rate > 0,
            f"train.learning_rate must be > 0, got {self.learning_rate}",
        )
        require(
            self.verbose in (None, 0, 1, 2),
            f"train.verbose must be null (auto), 0, 1 or 2, got {self.verbose}",
        )


class LearningRateLogger(keras.callbacks.Callback):
    """Adds the optimizer's current learning rate to each epoch's logs."""

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if logs is not None:
            logs["learning_rate"] = float(
                keras.ops.convert_to_numpy(self.model.optimizer.learning_rate)
            )


def fit(
    model: keras.Model,
    train: Dataset,
    val: Dataset,
    spec: TrainSpec,
    seed: int = 0,
    callbacks: Sequence[keras.callbacks.Callback] = (),
) -> dict[str, list[float]]:
    """Compile and train `model`; returns the per-epoch history (loss, accuracy, val_*, lr).

    `callbacks` run after the learning-rate logger, so they see every metric of the epoch.
    """
    model.compile(
        optimizer=OPTIMIZERS[spec.optimizer](learning_rate=spec.learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    history = model.fit(
        batches(train, spec.batch_size, shuffle=True, seed=seed),
        validation_data=batches(val, spec.batch_size),
        epochs=spec.epochs,
        callbacks=[LearningRateLogger(), *callbacks],
        verbose=(1 if sys.stdout.isatty() else 2) if spec.verbose is None else spec.verbose,
        shuffle=False,  # the pipeline shuffles
    )
    return history.history
