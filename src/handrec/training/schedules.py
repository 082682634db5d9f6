"""Optimizers and learning-rate schedules, all Keras built-ins."""

from __future__ import annotations

import keras

from handrec.training.spec import ScheduleSpec


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
