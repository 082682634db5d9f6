"""Optimizers and learning-rate schedules, all Keras built-ins."""

from __future__ import annotations

from dataclasses import dataclass

import keras

from handrec.errors import require

OPTIMIZERS = ("adam", "adamw", "sgd", "rmsprop")
SCHEDULES = ("constant", "cosine", "one_cycle", "step", "plateau")


@dataclass
class ScheduleSpec:
    """How the learning rate moves around `train.learning_rate` (the peak, for cosine and
    one_cycle).

    constant:  flat.
    cosine:    linear warmup from 0 over `warmup_epochs`, then cosine decay to
               `final_ratio` × the peak.
    one_cycle: linear rise from `start_ratio` × the peak over the first `peak_at` of training,
               then cosine decay to `final_ratio` × the peak. Momentum is not cycled: Keras 3
               optimizers take momentum and beta_1 as constants (SGD accepts floats only), and
               a variable slipped in instead does not survive saving the model.
    step:      multiplied by `factor` every `step_epochs` epochs.
    plateau:   multiplied by `factor` after `patience` epochs without improvement of
               `train.monitor`, down to `min_lr`.
    """

    name: str = "constant"
    warmup_epochs: float = 0.0
    final_ratio: float = 0.0
    start_ratio: float = 0.04
    peak_at: float = 0.3
    factor: float = 0.1
    step_epochs: int = 2
    patience: int = 2
    min_lr: float = 0.0

    def __post_init__(self) -> None:
        require(
            self.name in SCHEDULES,
            f"train.schedule.name must be one of {', '.join(SCHEDULES)}, got {self.name!r}",
        )
        require(
            self.warmup_epochs >= 0,
            f"train.schedule.warmup_epochs must be >= 0, got {self.warmup_epochs}",
        )
        for key in ("final_ratio", "start_ratio"):
            value = getattr(self, key)
            require(0 <= value <= 1, f"train.schedule.{key} must be in [0, 1], got {value}")
        require(
            0 < self.peak_at < 1, f"train.schedule.peak_at must be in (0, 1), got {self.peak_at}"
        )
        require(0 < self.factor < 1, f"train.schedule.factor must be in (0, 1), got {self.factor}")
        require(
            self.step_epochs >= 1,
            f"train.schedule.step_epochs must be >= 1, got {self.step_epochs}",
        )
        require(self.patience >= 1, f"train.schedule.patience must be >= 1, got {self.patience}")
        require(self.min_lr >= 0, f"train.schedule.min_lr must be >= 0, got {self.min_lr}")


def learning_rate(
    spec: ScheduleSpec, peak: float, epochs: int, steps_per_epoch: int
) -> float | keras.optimizers.schedules.LearningRateSchedule:
    """The optimizer's learning rate: a float (constant, plateau) or a per-step schedule."""
    total = epochs * steps_per_epoch
    if spec.name == "cosine":
        warmup = min(round(spec.warmup_epochs * steps_per_epoch), total - 1)
        return _warmup_cosine(0.0, peak, warmup, total, spec.final_ratio)
    if spec.name == "one_cycle":
        rise = max(1, min(round(spec.peak_at * total), total - 1))
        return _warmup_cosine(spec.start_ratio * peak, peak, rise, total, spec.final_ratio)
    if spec.name == "step":
        return keras.optimizers.schedules.ExponentialDecay(
            peak, spec.step_epochs * steps_per_epoch, spec.factor, staircase=True
        )
    return peak


def _warmup_cosine(
    start: float, peak: float, warmup_steps: int, total_steps: int, final_ratio: float
) -> keras.optimizers.schedules.LearningRateSchedule:
    return keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=start,
        decay_steps=max(1, total_steps - warmup_steps),
        alpha=final_ratio,
        warmup_target=peak if warmup_steps else None,
        warmup_steps=warmup_steps,
    )


def plateau_callback(spec: ScheduleSpec, monitor: str) -> keras.callbacks.ReduceLROnPlateau | None:
    """The plateau schedule acts on validation results, so it is a callback, not a schedule;
    None for the other schedules."""
    if spec.name != "plateau":
        return None
    return keras.callbacks.ReduceLROnPlateau(
        monitor=monitor, factor=spec.factor, patience=spec.patience, min_lr=spec.min_lr
    )


def make_optimizer(
    name: str,
    rate: float | keras.optimizers.schedules.LearningRateSchedule,
    weight_decay: float,
    momentum: float,
) -> keras.optimizers.Optimizer:
    """Weight decay is decoupled (AdamW-style) in every Keras optimizer; 0 adds no work per
    step. Biases and batch-norm parameters are left undecayed, as decaying them only hurts."""
    common = {"learning_rate": rate, "weight_decay": weight_decay or None}
    if name == "sgd":
        optimizer = keras.optimizers.SGD(momentum=momentum, nesterov=True, **common)
    else:
        kinds = {
            "adam": keras.optimizers.Adam,
            "adamw": keras.optimizers.AdamW,
            "rmsprop": keras.optimizers.RMSprop,
        }
        optimizer = kinds[name](**common)
    optimizer.exclude_from_weight_decay(var_names=["bias", "gamma", "beta"])
    return optimizer
