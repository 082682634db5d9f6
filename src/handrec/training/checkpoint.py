"""Resuming an interrupted fit from the backup written after every epoch.

Keras' BackupAndRestore saves the weights, the optimizer's state and the epoch. handrec adds the
state of the callbacks that remember earlier epochs (early stopping, the plateau schedule):
without it a resumed fit would forget how long the monitored metric has stalled, and stop or
lower the learning rate at other epochs than an uninterrupted fit.
"""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import keras
import numpy as np

from handrec.errors import HandrecError, first_line
from handrec.signals import signals_deferred

WEIGHTS = "latest.weights.h5"  # BackupAndRestore's files: weights with optimizer state,
PROGRESS = "training_metadata.json"  # and the number of completed epochs
IDENTITY = "handrec.json"  # ours: which model and optimizer wrote the backup,
STATE = "callbacks.npz"  # and the remembering callbacks' state after the last completed epoch

# What each remembering callback carries from one epoch to the next. EarlyStopping's best
# weights are saved too, as arrays.
REMEMBERED: dict[type[keras.callbacks.Callback], tuple[str, ...]] = {
    keras.callbacks.EarlyStopping: ("wait", "best", "best_epoch", "stopped_epoch"),
    keras.callbacks.ReduceLROnPlateau: ("wait", "best", "cooldown_counter"),
}
BEST_WEIGHTS = "best_weights"

T = TypeVar("T")


class CheckpointError(HandrecError):
    """A checkpoint folder cannot be resumed from."""


@dataclass
class Resumed:
    """Where a checkpoint leaves a fit: the completed epochs and, by callback name, the
    remembering callbacks' state after the last of them."""

    epochs: int = 0
    state: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def stopped_early(self) -> bool:
        """Early stopping had ended the fit: only restoring the best weights was left."""
        return any(values.get("stopped_epoch", 0) > 0 for values in self.state.values())


class Backup(keras.callbacks.BackupAndRestore):
    """Keras' backup after every epoch, plus the state of `remembering` in one file replaced
    atomically beside it; restores that state when the fit begins.

    The folder outlives the fit: whoever records the trained model removes it once that is
    done, so that a failure after the last epoch loses nothing. Ctrl-C and SIGTERM wait while
    an epoch's backup is written.

    Put it after the remembering callbacks: it then restores them after they reset themselves
    in on_train_begin, and saves them after they have seen the epoch's metrics.
    """

    def __init__(
        self,
        folder: Path,
        remembering: Mapping[str, keras.callbacks.Callback],
        resumed: Resumed,
    ) -> None:
        super().__init__(str(folder), delete_checkpoint=False)
        self.folder = folder
        self.remembering = dict(remembering)
        self.resumed = resumed

    def on_train_begin(self, logs: dict | None = None) -> None:
        super().on_train_begin(logs)
        for name, values in self.resumed.state.items():
            for key, value in values.items():
                setattr(self.remembering[name], key, value)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        with signals_deferred():
            super().on_epoch_end(epoch, logs)
            _save_state(self.folder / STATE, epoch + 1, self.remembering)


def completed_epochs(folder: Path) -> int:
    """How many epochs the backup in `folder` holds; 0 without a readable one."""
    try:
        return int(_json(folder / PROGRESS)["epoch"])
    except (OSError, ValueError, KeyError, TypeError):
        return 0


def resume(
    folder: Path,
    model: keras.Model,
    optimizer: str,
    remembering: Mapping[str, keras.callbacks.Callback],
) -> Resumed:
    """Load the backup in `folder` into the compiled `model`; returns where it left the fit.

    A fresh folder is claimed for this model and resumes nothing. A backup of another model,
    optimizer or set of remembering callbacks is refused, and an unreadable or inconsistent one
    reported, before anything is written.
    """
    identity = _identity(model, optimizer)
    if not any((folder / name).exists() for name in (WEIGHTS, PROGRESS, STATE)):
        folder.mkdir(parents=True, exist_ok=True)
        (folder / IDENTITY).write_text(json.dumps(identity))
        return Resumed()
    saved = _read(folder / IDENTITY, _json)
    if saved != identity:
        raise CheckpointError(
            f"checkpoint in {folder} was written by {_describe(saved)}, not by "
            f"{_describe(identity)}: resume with the same settings, or use another folder"
        )
    epochs = _read(folder / PROGRESS, lambda path: int(_json(path)["epoch"]))
    # Without remembering callbacks there is no state to restore: a process killed between
    # Keras' backup and the state file beside it leaves nothing to refuse.
    stateless = not remembering and not (folder / STATE).exists()
    state_epochs, state = (epochs, {}) if stateless else _read(folder / STATE, _load_state)
    if state_epochs != epochs and (remembering or state):
        raise CheckpointError(
            f"checkpoint file {folder / STATE} is of epoch {state_epochs}, the backup beside "
            f"it of epoch {epochs} (interrupted while saving): delete the folder {folder} to "
            "start over"
        )
    if set(state) != set(remembering):
        raise CheckpointError(
            f"checkpoint in {folder} was written with {_names(state)}, this fit has "
            f"{_names(remembering)}: resume with the same settings, or use another folder"
        )
    with model.distribute_strategy.scope():
        if not model.optimizer.built:
            model.optimizer.build(model.trainable_variables)
        _read(folder / WEIGHTS, model.load_weights)
    return Resumed(epochs, state)


def _save_state(
    path: Path, epochs: int, remembering: Mapping[str, keras.callbacks.Callback]
) -> None:
    """Scalars as JSON and best weights as arrays, in one .npz written aside, then renamed:
    an interruption leaves the previous epoch's file or this one, never a mix."""
    scalars: dict[str, dict[str, Any]] = {}
    arrays: dict[str, np.ndarray] = {}
    for name, callback in remembering.items():
        scalars[name] = {key: _plain(getattr(callback, key)) for key in _remembered(callback)}
        if isinstance(callback, keras.callbacks.EarlyStopping):
            weights = callback.best_weights
            scalars[name][BEST_WEIGHTS] = None if weights is None else len(weights)
            arrays |= {f"{name}.{BEST_WEIGHTS}.{i}": w for i, w in enumerate(weights or [])}
    content = json.dumps({"epochs": epochs, "callbacks": scalars})
    partial = path.with_name(f"{path.name}.partial")
    with partial.open("wb") as file:
        np.savez(file, state=np.array(content), **arrays)
        file.flush()
        os.fsync(file.fileno())
    os.replace(partial, path)


def _load_state(path: Path) -> tuple[int, dict[str, dict[str, Any]]]:
    with np.load(path, allow_pickle=False) as stored:
        content = json.loads(str(stored["state"]))
        state: dict[str, dict[str, Any]] = content["callbacks"]
        for name, values in state.items():
            if BEST_WEIGHTS in values and values[BEST_WEIGHTS] is not None:
                count = int(values[BEST_WEIGHTS])
                values[BEST_WEIGHTS] = [stored[f"{name}.{BEST_WEIGHTS}.{i}"] for i in range(count)]
    return int(content["epochs"]), state


def _remembered(callback: keras.callbacks.Callback) -> tuple[str, ...]:
    for kind, keys in REMEMBERED.items():
        if isinstance(callback, kind):
            return keys
    raise TypeError(f"{type(callback).__name__} is not a callback whose state handrec saves")


def _plain(value: Any) -> int | float | None:
    """A Python number for JSON; converting a NumPy float32 this way is exact."""
    return None if value is None else np.asarray(value).item()


def _names(callbacks: Mapping[str, Any]) -> str:
    return ", ".join(sorted(callbacks)) or "no early stopping or plateau schedule"


def _json(path: Path) -> dict[str, Any]:
    content = json.loads(path.read_text())
    if not isinstance(content, dict):
        raise ValueError(f"{path.name} holds no JSON object")
    return content


def _read(path: Path, load: Callable[[Path], T]) -> T:
    """`load(path)`, with any failure reported as an unreadable checkpoint file."""
    try:
        return load(path)
    except (OSError, EOFError, ValueError, KeyError, TypeError, zipfile.BadZipFile) as err:
        raise CheckpointError(
            f"checkpoint file {path} is unreadable ({first_line(err)}): delete the folder "
            f"{path.parent} to start over"
        ) from err


def _identity(model: keras.Model, optimizer: str) -> dict[str, Any]:
    """Name, size, a digest of every layer's settings (names aside), and the optimizer."""
    layers = [
        {"class": type(layer).__name__, **layer.get_config(), "name": None}
        for layer in model.layers
    ]
    digest = hashlib.sha256(json.dumps(layers, sort_keys=True, default=str).encode())
    return {
        "model": model.name,
        "parameters": model.count_params(),
        "architecture": digest.hexdigest()[:12],
        "optimizer": optimizer,
    }


def _describe(identity: dict[str, Any]) -> str:
    return (
        f"model {identity.get('model')} ({identity.get('parameters', 0):,} parameters, "
        f"architecture {identity.get('architecture')}) with optimizer {identity.get('optimizer')}"
    )
