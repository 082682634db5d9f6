"""How to train: the `train:` config's schemas (the fit, its schedule, its augmentation).

Apart from the code that trains (fit.py, schedules.py, augment.py, runtime.py), so that a config is
checked without importing TensorFlow.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from handrec.errors import require

OPTIMIZERS = ("adam", "adamw", "sgd", "rmsprop")
SCHEDULES = ("constant", "cosine", "one_cycle", "step", "plateau")
MONITORS = ("val_accuracy", "val_loss")
DISTRIBUTIONS = ("none", "mirrored")
PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16")


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


@dataclass
class AugmentSpec:
    """Strengths of the distortions; 0 switches one off. Images are never flipped: a mirrored
    character is another character, or none."""

    rotation: float = 0.0  # degrees, drawn from ±rotation
    shift: float = 0.0  # fraction of the image side, ±, along each axis
    zoom: float = 0.0  # scale drawn from [1 - zoom, 1 + zoom]
    shear: float = 0.0  # degrees, ±
    elastic_alpha: float = 0.0  # elastic distortion strength in pixels (Simard et al.: 34)
    elastic_sigma: float = 4.0  # smoothness of the elastic displacement field, in pixels
    thickness: float = 0.0  # stroke width change in pixels, ±: > 0 thickens, < 0 thins

    def __post_init__(self) -> None:
        limits = {
            "rotation": 180,
            "shift": 0.5,
            "zoom": 0.9,
            "shear": 60,
            "elastic_alpha": 100,
            "thickness": 1,
        }
        for key, top in limits.items():
            value = getattr(self, key)
            require(0 <= value <= top, f"train.augment.{key} must be in [0, {top}], got {value}")
        require(
            0 < self.elastic_sigma <= 14,
            f"train.augment.elastic_sigma must be in (0, 14], got {self.elastic_sigma}",
        )

    @property
    def affine(self) -> bool:
        return any((self.rotation, self.shift, self.zoom, self.shear))

    @property
    def enabled(self) -> bool:
        return self.affine or self.elastic_alpha > 0 or self.thickness > 0


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
    # a checkpoint whose tracked run is gone (deleted): True continues its weights in a new run
    resume_orphan: bool = False

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


def _require_choice(key: str, value: str, choices: Sequence[str]) -> None:
    require(value in choices, f"train.{key} must be one of {', '.join(choices)}, got {value!r}")
