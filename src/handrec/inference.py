"""Recognising characters with a trained model: loading, one image, a batch, a line.

A model is stored as a directory holding `model.keras` (Keras' own format, loaded with
safe_mode so no user file is ever unpickled) and `classes.txt` (one class name per line, in
label order). `save_model` writes both; `Predictor.load` reads both.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Sequence
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

from handrec.data.dataset import IMAGE_SHAPE
from handrec.decode import (
    Context,
    LineReading,
    Prediction,
    charset_mask,
    decode_line,
    prediction,
    restrict,
)
from handrec.errors import ConfigError, first_line
from handrec.labels import LabelSpace
from handrec.model_files import (
    CLASSES_FILE,
    MODEL_FILE,
    ModelError,
    checked_model_file,
    model_file,
    read_classes,
)
from handrec.preprocess import prepare
from handrec.segment import SegmentParams, segment_line

BATCH_SIZE = 256  # 5-8% more images per CPU second than 1,024: activations stay in cache


class Predictor:
    """A Keras model and the class names of its outputs, ready for single images and batches.

    charset: the classes a reading may use ("all", "letters", "digits" or the characters
    themselves); probabilities are renormalised over them, so "this field holds a name" turns
    every O-or-0 into an O.
    """

    def __init__(
        self, model: keras.Model, labels: LabelSpace, top_k: int = 3, charset: str = "all"
    ) -> None:
        _check_outputs(model, labels)
        if top_k < 1:
            raise ConfigError(f"top_k must be >= 1, got {top_k}")
        self.model = model
        self.labels = labels
        self.top_k = min(top_k, len(labels))
        self.charset = charset
        self.allowed = charset_mask(labels.classes, charset)
        self._forward = _compile(model)

    @classmethod
    def load(
        cls,
        path: str | Path,
        classes: LabelSpace | Sequence[str] | None = None,
        top_k: int = 3,
        charset: str = "all",
    ) -> Predictor:
        """A model file, or a directory holding model.keras; class names from the sibling
        classes.txt unless `classes` gives them."""
        model_path = model_file(path)
        model = load_model(model_path)
        if classes is None:
            labels = read_classes(model_path.parent / CLASSES_FILE)
        else:
            labels = _label_space(classes)
        return cls(model, labels, top_k, charset)

    def with_charset(self, charset: str) -> Predictor:
        """The same model reading another character set (no reload, no retrace)."""
        other = copy.copy(self)
        other.charset, other.allowed = charset, charset_mask(self.labels.classes, charset)
        return other

    def probabilities(self, images: np.ndarray, batch_size: int = BATCH_SIZE) -> np.ndarray:
        """Prepared uint8 [N, 28, 28] → float32 [N, classes] over the character set (0 outside
        it); the fast batch path."""
        images = np.asarray(images, dtype=np.uint8)
        if images.ndim != 3 or images.shape[1:] != IMAGE_SHAPE:
            raise ConfigError(f"expected prepared images [N, 28, 28], got {list(images.shape)}")
        chunks = [
            self._forward(images[start : start + batch_size]).numpy()
            for start in range(0, len(images), batch_size)
        ]
        if not chunks:
            return np.zeros((0, len(self.labels)), np.float32)
        rows = np.concatenate(chunks)
        return rows if self.allowed.all() else restrict(rows, self.allowed)

    def confidence(self, images: np.ndarray) -> np.ndarray:
        """Prepared uint8 [N, 28, 28] → each one's most likely class's probability [N]: how
        surely the model reads it (segmentation asks this of candidate cuts)."""
        return self.probabilities(images).max(axis=1)

    def predict(self, image: np.ndarray) -> Prediction:
        """One character in any array form `preprocess.prepare` reads → its prediction."""
        prepared = prepare(image)
        return self._prediction(self.probabilities(prepared[None])[0], prepared)

    def predict_batch(self, images: np.ndarray) -> list[Prediction]:
        """Prepared uint8 [N, 28, 28] → one prediction each."""
        return [
            self._prediction(row, image)
            for row, image in zip(self.probabilities(images), images, strict=True)
        ]

    def read_line(
        self,
        image: np.ndarray,
        params: SegmentParams | None = None,
        context: Context | None = None,
    ) -> LineReading:
        """An image of one line of characters → its decoded and free text, with a prediction
        per character. Context defaults to `decode.Context()`; `decode.FREE` reads every
        character on its own."""
        glyphs = segment_line(image, params, self.confidence)
        rows = self.probabilities(np.stack([g.image for g in glyphs]))
        return decode_line(rows, self.labels.classes, glyphs, context or Context(), self.top_k)

    def _prediction(self, row: np.ndarray, image: np.ndarray) -> Prediction:
        return prediction(row, self.labels.classes, image, self.top_k)


def load_model(path: Path) -> keras.Model:
    """A `.keras` file → the model, or a one-line ModelError saying why not."""
    checked_model_file(path)
    try:
        return keras.saving.load_model(path, compile=False, safe_mode=True)
    except json.JSONDecodeError as error:
        raise ModelError(
            f"cannot load model {path}: its config.json is not valid JSON ({error.msg} at line "
            f"{error.lineno}): the file is corrupt, save or download it again"
        ) from None
    except Exception as error:  # Keras raises many types for a corrupt zip; all mean the same.
        raise ModelError(f"cannot load model {path}: {first_line(error)}") from None


def save_model(
    model: keras.Model, classes: LabelSpace | Sequence[str], directory: str | Path
) -> Path:
    """Write model.keras and classes.txt into `directory`; returns the model file's path."""
    labels = _label_space(classes)
    bad = [name for name in labels.classes if name != name.strip() or name.splitlines() != [name]]
    if bad:
        raise ConfigError(f"class names must be one non-blank line each, got {bad}")
    _check_outputs(model, labels)
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    model.save(directory / MODEL_FILE)
    (directory / CLASSES_FILE).write_text("".join(f"{name}\n" for name in labels.classes))
    return directory / MODEL_FILE


def _label_space(classes: LabelSpace | Sequence[str]) -> LabelSpace:
    """A label space as it is; a string as one class per character; a list as given."""
    return classes if isinstance(classes, LabelSpace) else LabelSpace.from_names(classes)


def _check_outputs(model: keras.Model, labels: LabelSpace) -> None:
    outputs = model.outputs[0].shape[-1]
    if outputs != len(labels):
        raise ModelError(
            f"the model predicts {outputs} classes but {len(labels)} class names were given"
        )


def _compile(model: keras.Model) -> Callable[[np.ndarray], tf.Tensor]:
    """One graph for any batch size with the weights in it as constants: no retracing, none of
    model.predict's per-call set-up (~50 ms for a single image), and TensorFlow's graph
    optimiser folds each batch norm into the convolution before it (6-10% more images per CPU
    second, benchmarks/bench_evaluate.py)."""

    @tf.function(input_signature=[tf.TensorSpec([None, *IMAGE_SHAPE], tf.uint8)])
    def forward(images: tf.Tensor) -> tf.Tensor:
        return model(tf.cast(images, tf.float32), training=False)

    frozen = convert_variables_to_constants_v2(forward.get_concrete_function())
    return lambda images: frozen(tf.convert_to_tensor(images))[0]
