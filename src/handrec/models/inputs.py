"""The input contract every model shares: raw 0–255 pixels as [N, 28, 28]."""

from __future__ import annotations

import keras

from handrec.data.dataset import IMAGE_SHAPE


def pixel_input() -> tuple[keras.KerasTensor, keras.KerasTensor]:
    """(input, scaled) where scaled is [N, 28, 28, 1] in [0, 1].

    Scaling inside the model means every consumer — tf.data, the web page, an MLflow pyfunc —
    feeds the Dataset's pixels as they are, with no copy of the preprocessing to keep in sync.
    """
    inputs = keras.Input(shape=IMAGE_SHAPE, name="pixels")
    scaled = keras.layers.Rescaling(1.0 / 255)(inputs)
    return inputs, keras.layers.Reshape((*IMAGE_SHAPE, 1))(scaled)
