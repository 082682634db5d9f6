"""The training settings and the fit loop."""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from sklearn.utils.class_weight import compute_class_weight

from handrec.data.dataset import Dataset
from handrec.errors import ConfigError, require
from handrec.training.augment import AugmentSpec
from handrec.training.callbacks import EpochSeeds, LearningRateLogger, StopOnNaN
from handrec.training.checkpoint import Backup, CheckpointError, Resumed, resume
from handrec.training.pipeline import batches, epoch_batches, steps_per_epoch
from handrec.training.runtime import DISTRIBUTIONS, PRECISIONS, is_mirrored
from handrec.training.schedules import (
    OPTIMIZERS,
    ScheduleSpec,
    learning_rate,
    make_optimizer,
    plateau_callback,
)

MONITORS = ("val_accuracy", "val_loss")


@dataclass
class TrainSpec:
    """How to train; the defaults are the original project's recipe (Adam 1e-3, batch 200,
    5 epochs, nothing else)."""

    epochs: int = 5
    batch_size: int = 200
    optimizer: str = "adam"
    learning_rate: float = 1e-3  # the peak, for warmup schedules
    weight_decay: float = 0.0  # decoupled; adamw needs it > 0
    momentum: float = 0.9  # sgd (Nesterov) only
    label_smoothing: float = 0.0
    schedule: ScheduleSpec = field(default_factory=ScheduleSpec)
    augment: AugmentSpec = field(default_factory=AugmentSpec)
    early_stopping: int = 0  # patience in epochs on `monitor`, keeping the best weights; 0: off
    monitor: str = "val_accuracy"  # what early stopping and the plateau schedule watch
    threads: int = 0  # TensorFlow threads (0: one per core); see configure_threads
    deterministic: bool = False  # bit-identical reruns for the same seed, somewhat slower
    distribute: str = "none"  # or mirrored: one replica per GPU (per CPU device without one)
    precision: str = "float32"  # or mixed_float16, mixed_bfloat16
    verbose: int | None = None  # None: a progress bar on a terminal, a line per epoch otherwise
    resume: bool = True  # continue an interrupted fit of the same settings from its checkpoint

    def __post_init__(self) -> None:
        require(self.epochs >= 1, f"train.epochs must be >= 1, got {self.epochs}")
        require(self.batch_size >= 1, f"train.batch_size must be >= 1, got {self.batch_size}")
        _require_choice("optimizer", self.optimizer, OPTIMIZERS)
        require(
            self.learning_rate > 0, f"train.learning_rate must be > 0, got {self.learning_rate}"
        )
        require(
            0 <= self.weight_decay < 1,
            f"train.weight_decay must be in [0, 1), got {self.weight_decay}",
        )
        require(
            self.optimizer != "adamw" or self.weight_decay > 0,
            "train.weight_decay must be > 0 with train.optimizer=adamw (without it, use adam)",
        )
        require(0 <= self.momentum < 1, f"train.momentum must be in [0, 1), got {self.momentum}")
        require(
            0 <= self.label_smoothing < 1,
            f"train.label_smoothing must be in [0, 1), got {self.label_smoothing}",
        )
        require(
            self.early_stopping >= 0,
            f"train.early_stopping must be >= 0, got {self.early_stopping}",
        )
        _require_choice("monitor", self.monitor, MONITORS)
        require(self.threads >= 0, f"train.threads must be >= 0, got {self.threads}")
        _require_choice("distribute", self.distribute, DISTRIBUTIONS)
        _require_choice("precision", self.precision, PRECISIONS)
        require(
            self.verbose in (None, 0, 1, 2),
            f"train.verbose must be null (auto), 0, 1 or 2, got {self.verbose}",
        )


class History(dict[str, list[float]]):
    """Per-epoch values by metric name, as Keras' History.history, plus `epochs`: the 1-based
    numbers of the epochs they belong to, which start past 1 when a fit resumed."""

    def __init__(self, metrics: dict[str, list[float]], epochs: list[int]) -> None:
        super().__init__(metrics)
        self.epochs = epochs


def fit(
    model: keras.Model,
    train: Dataset,
    val: Dataset,
    spec: TrainSpec,
    seed: int = 0,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    checkpoint_dir: Path | None = None,
    class_weight: Mapping[int, float] | None = None,
) -> History:
    """Compile and train `model`; returns the history of the epochs this call ran.

    `class_weight` scales each class's loss (e.g. `balanced_class_weights(train)` for
    imbalanced data).

    With `checkpoint_dir`, each epoch is backed up there (with the state of early stopping and
    the plateau schedule) and a later call with the same folder and settings resumes after the
    last completed epoch, stopping, lowering the rate and reaching the same weights as an
    uninterrupted fit; the folder is removed when the fit completes. With
    `spec.distribute=mirrored` or a mixed precision, build `model` inside
    `strategy_scope(spec.distribute, spec.precision)`. `callbacks` run last, so they see every
    metric of the epoch.
    """
    if spec.deterministic:
        tf.config.experimental.enable_op_determinism()
    _check_built_for(model, spec)
    steps = steps_per_epoch(len(train), spec.batch_size)
    n_classes = len(train.labels)
    _compile(model, spec, steps)
    remembering = _remembering(spec)
    resumed = (
        resume(checkpoint_dir, model, spec.optimizer, remembering) if checkpoint_dir else Resumed()
    )
    first = resumed.epochs
    # Early stopping had ended the interrupted fit: run no epoch, only the end of the fit.
    last = first if resumed.stopped_early else spec.epochs
    if first > last:
        raise CheckpointError(
            f"checkpoint in {checkpoint_dir} has {first} epochs done, train.epochs is "
            f"{spec.epochs}: raise train.epochs to continue, or delete the folder"
        )
    history = model.fit(
        epoch_batches(
            train,
            spec.batch_size,
            range(first, last),
            seed,
            spec.augment,
            n_classes=n_classes,
        ),
        validation_data=batches(val, spec.batch_size, n_classes=n_classes),
        epochs=last,
        initial_epoch=first,
        steps_per_epoch=steps,
        callbacks=[*_callbacks(spec, remembering, checkpoint_dir, resumed), *callbacks],
        verbose=(1 if sys.stdout.isatty() else 2) if spec.verbose is None else spec.verbose,
        shuffle=False,  # the pipeline shuffles
        class_weight=dict(class_weight) if class_weight else None,
    )
    return History(history.history, [epoch + 1 for epoch in history.epoch])


def balanced_class_weights(train: Dataset) -> dict[int, float]:
    """n_samples / (n_classes * class count) for every class present (sklearn's "balanced")."""
    present = np.unique(train.y)
    weights = compute_class_weight("balanced", classes=present, y=train.y)
    return dict(zip(present.tolist(), weights.tolist(), strict=True))


def _compile(model: keras.Model, spec: TrainSpec, steps: int) -> None:
    """Labels arrive one-hot: Keras' sparse cross-entropy has no label smoothing."""
    rate = learning_rate(spec.schedule, spec.learning_rate, spec.epochs, steps)
    with model.distribute_strategy.scope():
        model.compile(
            optimizer=make_optimizer(spec.optimizer, rate, spec.weight_decay, spec.momentum),
            loss=keras.losses.CategoricalCrossentropy(label_smoothing=spec.label_smoothing),
            metrics=["accuracy"],
        )


def _remembering(spec: TrainSpec) -> dict[str, keras.callbacks.Callback]:
    """The callbacks that decide from earlier epochs, by name: a checkpoint keeps their state."""
    chosen: dict[str, keras.callbacks.Callback] = {}
    plateau = plateau_callback(spec.schedule, spec.monitor)
    if plateau is not None:
        chosen["plateau"] = plateau
    if spec.early_stopping:
        chosen["early_stopping"] = keras.callbacks.EarlyStopping(
            spec.monitor, patience=spec.early_stopping, restore_best_weights=True
        )
    return chosen


def _callbacks(
    spec: TrainSpec,
    remembering: dict[str, keras.callbacks.Callback],
    checkpoint_dir: Path | None,
    resumed: Resumed,
) -> list[keras.callbacks.Callback]:
    chosen = [
        LearningRateLogger(),
        StopOnNaN(spec.learning_rate),
        EpochSeeds(),
        *remembering.values(),
    ]
    if checkpoint_dir is not None:
        chosen.append(Backup(checkpoint_dir, remembering, resumed))
    return chosen


def _check_built_for(model: keras.Model, spec: TrainSpec) -> None:
    """A model built outside `strategy_scope(spec.distribute, spec.precision)` would silently
    train on one device, or in float32."""
    mirrored = is_mirrored(model.distribute_strategy)
    if mirrored != (spec.distribute == "mirrored") or model.dtype_policy.name != spec.precision:
        raise ConfigError(
            f"train.distribute={spec.distribute} and train.precision={spec.precision}, but the "
            f"model was built {'with' if mirrored else 'without'} a mirrored strategy and in "
            f"{model.dtype_policy.name}: build it inside handrec.training.strategy_scope"
        )


def _require_choice(key: str, value: str, choices: Sequence[str]) -> None:
    require(value in choices, f"train.{key} must be one of {', '.join(choices)}, got {value!r}")
