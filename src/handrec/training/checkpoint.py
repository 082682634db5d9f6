"""Resuming an interrupted fit from the backup Keras' BackupAndRestore writes each epoch."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import keras

from handrec.errors import HandrecError

WEIGHTS = "latest.weights.h5"  # BackupAndRestore's files: weights with optimizer state,
PROGRESS = "training_metadata.json"  # and the number of completed epochs
IDENTITY = "handrec.json"  # ours: which model and optimizer wrote the backup


T = TypeVar("T")


class CheckpointError(HandrecError):
    """A checkpoint folder cannot be resumed from."""


def backup(folder: Path) -> keras.callbacks.BackupAndRestore:
    """Saves weights, optimizer state and epoch after every epoch; deletes them on completion."""
    return keras.callbacks.BackupAndRestore(str(folder))


def resume(folder: Path, model: keras.Model, optimizer: str) -> int:
    """Load the backup in `folder` into the compiled `model`; returns the completed epochs.

    A fresh folder is claimed for this model and returns 0. A backup of another model or
    optimizer is refused, and an unreadable one reported, before anything is written.
    """
    identity = _identity(model, optimizer)
    if not any((folder / name).exists() for name in (WEIGHTS, PROGRESS)):
        folder.mkdir(parents=True, exist_ok=True)
        (folder / IDENTITY).write_text(json.dumps(identity))
        return 0
    saved = _read(folder, lambda: _json(folder / IDENTITY))
    if saved != identity:
        raise CheckpointError(
            f"checkpoint in {folder} was written by {_describe(saved)}, not by "
            f"{_describe(identity)}: resume with the same settings, or use another folder"
        )
    with model.distribute_strategy.scope():
        if not model.optimizer.built:
            model.optimizer.build(model.trainable_variables)
        _read(folder, lambda: model.load_weights(folder / WEIGHTS))
    return _read(folder, lambda: int(_json(folder / PROGRESS)["epoch"]))


def _json(path: Path) -> dict[str, Any]:
    content = json.loads(path.read_text())
    if not isinstance(content, dict):
        raise ValueError(f"{path.name} holds no JSON object")
    return content


def _read(folder: Path, load: Callable[[], T]) -> T:
    """`load()`, with any failure reported as an unreadable checkpoint."""
    try:
        return load()
    except (OSError, ValueError, KeyError, TypeError) as err:
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise CheckpointError(
            f"checkpoint in {folder} is unreadable ({reason}): delete the folder to start over"
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
