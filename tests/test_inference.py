"""The Predictor: loading a saved model safely, single images, batches and lines."""

from __future__ import annotations

import cv2
import keras
import numpy as np
import pytest

from handrec.errors import ConfigError, HandrecError
from handrec.inference import (
    CLASSES_FILE,
    MODEL_FILE,
    ModelError,
    Predictor,
    save_model,
)
from handrec.models.inputs import pixel_input
from handrec.preprocess import NoInkError, prepare

LOGITS = [0.0, 2.0, 1.0]  # the tiny model's answer to every image: B, then C, then A
PROBABILITIES = np.exp(LOGITS) / np.exp(LOGITS).sum()


def constant_model() -> keras.Model:
    """The project's input contract with a fixed answer, so tests know what to expect."""
    inputs, scaled = pixel_input()
    dense = keras.layers.Dense(len(LOGITS), activation="softmax")
    outputs = dense(keras.layers.Flatten()(scaled))
    dense.set_weights([np.zeros((28 * 28, len(LOGITS))), np.array(LOGITS)])
    return keras.Model(inputs, outputs)


def batch_norm_model() -> keras.Model:
    """A convolution, a batch norm with learnt statistics far from 0 and 1, and a softmax: what
    the Predictor folds together."""
    inputs, scaled = pixel_input()
    conv = keras.layers.Conv2D(4, 3, use_bias=False)
    norm = keras.layers.BatchNormalization()
    x = keras.layers.GlobalAveragePooling2D()(keras.layers.ReLU()(norm(conv(scaled))))
    outputs = keras.layers.Dense(len(LOGITS), activation="softmax")(x)
    model = keras.Model(inputs, outputs)
    rng = np.random.default_rng(0)
    gamma, beta, mean, variance = (rng.uniform(0.5, 2.0, 4) for _ in range(4))
    norm.set_weights([gamma, beta - 1.0, mean - 1.0, variance])
    return model


def character() -> np.ndarray:
    image = np.full((64, 48), 240, np.uint8)
    cv2.putText(image, "4", (6, 54), cv2.FONT_HERSHEY_SIMPLEX, 1.8, 10, 5)
    return image


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    directory = tmp_path_factory.mktemp("model")
    save_model(constant_model(), "ABC", directory)
    return directory


@pytest.fixture(scope="module")
def predictor(model_dir):
    return Predictor.load(model_dir)


def test_save_model_writes_the_model_and_its_class_names(model_dir):
    assert (model_dir / MODEL_FILE).is_file()
    assert (model_dir / CLASSES_FILE).read_text() == "A\nB\nC\n"


def test_load_reads_the_class_names_next_to_the_model(predictor):
    assert predictor.labels.classes == ("A", "B", "C")


def test_load_accepts_the_model_file_as_well_as_its_directory(model_dir):
    assert Predictor.load(model_dir / MODEL_FILE).labels.classes == ("A", "B", "C")


def test_given_class_names_replace_a_missing_classes_file(model_dir, tmp_path):
    lone = tmp_path / MODEL_FILE
    lone.write_bytes((model_dir / MODEL_FILE).read_bytes())
    assert Predictor.load(lone, classes=["x", "y", "z"]).labels.classes == ("x", "y", "z")


def test_prediction_names_the_most_likely_class_and_its_probability(predictor):
    prediction = predictor.predict(character())
    assert prediction.label == "B"
    assert prediction.confidence == pytest.approx(PROBABILITIES[1], rel=1e-5)


def test_top_k_lists_the_alternatives_most_likely_first(predictor):
    labels = [label for label, _ in predictor.predict(character()).top_k]
    assert labels == ["B", "C", "A"]


def test_top_k_is_capped_at_the_number_of_classes(model_dir):
    assert len(Predictor.load(model_dir, top_k=10).predict(character()).top_k) == 3


def test_prediction_carries_the_28x28_image_the_model_saw(predictor):
    assert np.array_equal(predictor.predict(character()).image, prepare(character()))


def test_single_image_does_not_go_through_model_predict(model_dir, monkeypatch):
    fresh = Predictor.load(model_dir)
    monkeypatch.setattr(fresh.model, "predict", None)
    assert fresh.predict(character()).label == "B"


def test_blank_image_is_not_guessed(predictor):
    with pytest.raises(NoInkError):
        predictor.predict(np.full((40, 40), 255, np.uint8))


def test_batch_probabilities_have_one_row_per_image_across_chunks(predictor):
    images = np.repeat(prepare(character())[None], 10, axis=0)
    rows = predictor.probabilities(images, batch_size=4)
    assert rows.shape == (10, 3)
    np.testing.assert_allclose(rows, np.tile(PROBABILITIES, (10, 1)), rtol=1e-5)


def test_batch_probabilities_are_the_keras_models_own(tmp_path):
    model = batch_norm_model()
    save_model(model, "ABC", tmp_path)
    images = np.random.default_rng(1).integers(0, 256, (8, 28, 28), dtype=np.uint8)
    expected = keras.ops.convert_to_numpy(model(images.astype(np.float32), training=False))
    np.testing.assert_allclose(
        Predictor.load(tmp_path).probabilities(images), expected, rtol=1e-5, atol=1e-6
    )


def test_empty_batch_gives_no_rows(predictor):
    assert predictor.probabilities(np.zeros((0, 28, 28), np.uint8)).shape == (0, 3)


def test_batch_of_unprepared_images_is_refused(predictor):
    with pytest.raises(ConfigError, match=r"\[N, 28, 28\]"):
        predictor.probabilities(np.zeros((2, 32, 32), np.uint8))


def test_predict_batch_gives_one_prediction_per_image(predictor):
    images = np.repeat(prepare(character())[None], 3, axis=0)
    assert [p.label for p in predictor.predict_batch(images)] == ["B", "B", "B"]


def test_read_line_spells_the_line_with_spaces_and_boxes(predictor):
    image = np.full((90, 520), 240, np.uint8)
    cv2.putText(image, "HELLO", (10, 70), cv2.FONT_HERSHEY_SIMPLEX, 2, 10, 4)
    cv2.putText(image, "42", (330, 70), cv2.FONT_HERSHEY_SIMPLEX, 2, 10, 4)
    reading = predictor.read_line(image)
    assert reading.text == "BBBBB BB"
    assert [c.box.x for c in reading.characters] == sorted(c.box.x for c in reading.characters)


def test_missing_model_file_is_a_one_line_error(tmp_path):
    with pytest.raises(ModelError, match="model not found"):
        Predictor.load(tmp_path / "absent.keras")


def test_file_that_is_not_a_keras_file_is_refused(tmp_path):
    (tmp_path / "model.h5").write_bytes(b"HDF")
    with pytest.raises(ModelError, match="not a .keras file"):
        Predictor.load(tmp_path / "model.h5", classes="ABC")


def test_corrupt_model_file_is_a_one_line_error(tmp_path):
    (tmp_path / MODEL_FILE).write_bytes(b"PK\x03\x04 truncated zip")
    with pytest.raises(ModelError, match="corrupt") as caught:
        Predictor.load(tmp_path, classes="ABC")
    assert "\n" not in str(caught.value)


def test_model_with_code_inside_is_not_executed_on_load(tmp_path):
    inputs, scaled = pixel_input()
    outputs = keras.layers.Lambda(lambda x: x * 2)(keras.layers.Flatten()(scaled))
    keras.Model(inputs, outputs).save(tmp_path / MODEL_FILE)
    with pytest.raises(ModelError, match="cannot load model .*Lambda"):
        Predictor.load(tmp_path, classes=[str(i) for i in range(28 * 28)])


def test_missing_classes_file_is_a_one_line_error(model_dir, tmp_path):
    (tmp_path / MODEL_FILE).write_bytes((model_dir / MODEL_FILE).read_bytes())
    with pytest.raises(ModelError, match="class names not found"):
        Predictor.load(tmp_path)


def test_class_count_that_does_not_match_the_model_is_refused(model_dir):
    with pytest.raises(ModelError, match="predicts 3 classes but 4"):
        Predictor.load(model_dir, classes="ABCD")


def test_class_names_that_do_not_fit_one_line_are_refused(tmp_path):
    with pytest.raises(ConfigError, match="one non-blank line"):
        save_model(constant_model(), ["A", "B\nC", "D"], tmp_path)


def test_model_errors_are_handrec_errors():
    assert issubclass(ModelError, HandrecError)


def test_a_charset_renormalises_over_its_classes(model_dir):
    prediction = Predictor.load(model_dir, charset="AC").predict(character())
    assert prediction.label == "C"
    assert prediction.confidence == pytest.approx(np.exp(1) / (1 + np.exp(1)), rel=1e-5)


def test_a_charset_gives_no_probability_outside_it(model_dir):
    rows = Predictor.load(model_dir, charset="AC").probabilities(prepare(character())[None])
    assert rows[0, 1] == 0


def test_with_charset_reads_another_set_with_the_same_model(predictor):
    other = predictor.with_charset("A")
    assert other.predict(character()).label == "A"
    assert other.model is predictor.model
    assert predictor.predict(character()).label == "B"


def test_read_line_gives_the_free_reading_beside_the_decoded_one(predictor):
    image = np.full((90, 300), 240, np.uint8)
    cv2.putText(image, "HI", (10, 70), cv2.FONT_HERSHEY_SIMPLEX, 2, 10, 4)
    assert predictor.read_line(image).free_text == "BB"


def test_a_model_whose_config_is_broken_json_is_named_corrupt(model_dir, tmp_path):
    import zipfile

    broken = tmp_path / MODEL_FILE
    with zipfile.ZipFile(model_dir / MODEL_FILE) as source, zipfile.ZipFile(broken, "w") as copy:
        for item in source.infolist():
            data = b'{"class_name": "Functional", ' if item.filename == "config.json" else None
            copy.writestr(item, data if data is not None else source.read(item))
    with pytest.raises(ModelError, match=r"its config\.json is not valid JSON .* corrupt"):
        Predictor.load(tmp_path, classes="ABC")
