"""The fit loop (its settings, TrainSpec, are in handrec.training.spec)."""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from sklearn.utils.class_weight import compute_class_weight

from handrec.data.dataset import Dataset
from handrec.errors import ConfigError
from handrec.training.callbacks import EpochSeeds, LearningRateLogger, StopOnNaN
from handrec.training.checkpoint import Backup, CheckpointError, Resumed, resume
from handrec.training.pipeline import batches, epoch_batches, steps_per_epoch
from handrec.training.runtime import is_mirrored
from handrec.training.schedules import learning_rate, make_optimizer, plateau_callback
from handrec.training.spec import TrainSpec


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
    uninterrupted fit. The folder stays after the fit (remove it once the model is recorded);
    a fit of a folder whose backup has every epoch runs none. With
    `spec.distribute=mirrored` or a mixed precision, build `model` inside
    `strategy_scope(spec.distribute, spec.precision)`. `callbacks` see every metric of the
    epoch, and run before the epoch's backup is written: a process killed between the two
    repeats the epoch when resumed, and never skips one.
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
        callbacks=_callbacks(spec, remembering, callbacks, checkpoint_dir, resumed),
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
    callbacks: Sequence[keras.callbacks.Callback],
    checkpoint_dir: Path | None,
    resumed: Resumed,
) -> list[keras.callbacks.Callback]:
    chosen = [
        LearningRateLogger(),
        StopOnNaN(spec.learning_rate),
        EpochSeeds(),
        *remembering.values(),
        *callbacks,
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
