"""The callbacks every fit uses, besides Keras' own."""

from __future__ import annotations

import keras

from handrec.errors import HandrecError

SEED_STRIDE = 1_000_000  # > steps per epoch, so the epochs' random streams never overlap


class TrainingDiverged(HandrecError):
    """The loss became NaN or infinite."""


class LearningRateLogger(keras.callbacks.Callback):
    """Adds the optimizer's current learning rate to each epoch's logs."""

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if logs is not None:
            logs["learning_rate"] = float(
                keras.ops.convert_to_numpy(self.model.optimizer.learning_rate)
            )


class StopOnNaN(keras.callbacks.TerminateOnNaN):
    """Keras' NaN check, raising an error that says when and what to change, instead of
    ending the run quietly with a useless model."""

    def __init__(self, learning_rate: float) -> None:
        super().__init__(raise_error=True)
        self.learning_rate = learning_rate
        self.epoch = 0

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self.epoch = epoch

    def on_batch_end(self, batch: int, logs: dict | None = None) -> None:
        try:
            super().on_batch_end(batch, logs)
        except RuntimeError as err:
            raise TrainingDiverged(
                f"loss became NaN or infinite at epoch {self.epoch + 1}, batch {batch + 1}: "
                f"lower train.learning_rate (now {self.learning_rate:g}) or check the data"
            ) from err


class EpochSeeds(keras.callbacks.Callback):
    """Sets the model's random generators (dropout masks) to a state fixed by the epoch.

    Their state is not in a checkpoint; this way a resumed epoch draws exactly what the
    uninterrupted run drew in that epoch.
    """

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        for state in self.model.variables:
            if state.name == "seed_generator_state":
                first = keras.ops.convert_to_numpy(state)[0]
                state.assign(keras.ops.convert_to_tensor([first, epoch * SEED_STRIDE], state.dtype))
