"""The recognition page: its logic as plain functions, and the page itself through AppTest."""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import keras
import mlflow
import numpy as np
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from apps import figures, gallery, runs
from apps.reading import (
    Character,
    Failure,
    Line,
    attempt,
    charsets_for,
    line_context,
    read_bytes,
    read_image,
)
from apps.settings import MAX_PIXELS_ENV, MODEL_ENV, Settings, from_env
from experiments.models import (
    ModelNotFound,
    TrainedRun,
    find_model,
    has_store,
    list_aliases,
    list_experiments,
    run_uri,
    trained_runs,
)
from handrec import shipped
from handrec.decode import Context
from handrec.errors import ConfigError, HandrecError
from handrec.inference import Prediction, Predictor, save_model
from handrec.labels import DIGITS, UPPERCASE
from handrec.models import build_model
from handrec.models.seed_cnn import SeedCnnParams
from handrec.preprocess import MAX_PIXELS, decode_image

PAGE = Path(__file__).resolve().parents[1] / "src" / "apps" / "page.py"
TIMEOUT = 120


def tiny_model(directory: Path) -> Path:
    """An untrained 36-class seed CNN saved as the page expects: its answers are arbitrary but
    fixed, which is all a test of the page needs."""
    keras.utils.set_random_seed(0)
    model = build_model(SeedCnnParams(filters=4, dense_units=16), len(DIGITS + UPPERCASE))
    return save_model(model, DIGITS + UPPERCASE, directory)


def png(image: np.ndarray) -> bytes:
    ok, encoded = cv2.imencode(".png", image)
    assert ok
    return encoded.tobytes()


@pytest.fixture(scope="module")
def model_file(tmp_path_factory) -> Path:
    return tiny_model(tmp_path_factory.mktemp("model"))


@pytest.fixture(scope="module")
def predictor(model_file) -> Predictor:
    return Predictor.load(model_file, top_k=5)


@pytest.fixture(scope="module")
def sample_png() -> bytes:
    return png(gallery.character_samples()[0].image)


# --- reading an input -------------------------------------------------------------------------


def test_an_image_file_is_read_as_the_predictor_reads_it(predictor, sample_png):
    result = read_bytes(sample_png, predictor, line=False, max_pixels=MAX_PIXELS)
    assert isinstance(result, Character)
    expected = predictor.predict(decode_image(sample_png))
    assert result.prediction.label == expected.label
    assert result.prediction.image.shape == (28, 28)
    assert len(result.prediction.top_k) == 5


@pytest.mark.parametrize(
    ("data", "words"),
    [(b"", "Empty image file"), (b"%PDF-1.7 not a picture", "not a known image format")],
)
def test_a_file_that_is_no_image_says_so_in_words(predictor, data, words):
    result = read_bytes(data, predictor, line=False, max_pixels=MAX_PIXELS)
    assert isinstance(result, Failure)
    assert words in result.message


def test_an_image_over_the_pixel_limit_is_refused_and_names_the_setting(predictor, sample_png):
    result = read_bytes(sample_png, predictor, line=False, max_pixels=100)
    assert isinstance(result, Failure)
    assert "too large" in result.message and MAX_PIXELS_ENV in result.message


def test_a_blank_image_is_nothing_to_read(predictor):
    result = read_image(np.full((60, 60), 255, np.uint8), predictor, line=False)
    assert isinstance(result, Failure)
    assert result.message.startswith("Nothing to read")


def test_dark_strokes_on_a_transparent_png_are_read(predictor):
    rgba = np.zeros((120, 120, 4), np.uint8)
    cv2.line(rgba, (60, 15), (60, 105), (0, 0, 0, 255), 12)
    result = read_bytes(png(rgba), predictor, line=False, max_pixels=MAX_PIXELS)
    assert isinstance(result, Character)
    assert result.image.shape == (120, 120)


def test_a_line_read_as_one_character_is_flagged_to_suggest_line_mode(predictor, sample_png):
    line = gallery.line_samples()[0].image
    assert read_image(line, predictor, line=False).maybe_line
    assert not read_bytes(sample_png, predictor, line=False, max_pixels=MAX_PIXELS).maybe_line


def test_a_line_is_read_character_by_character_with_its_space(predictor):
    sample = next(s for s in gallery.line_samples() if s.name == "HELLO 42")
    result = read_image(sample.image, predictor, line=True)
    assert isinstance(result, Line)
    assert len(result.reading.characters) == 7
    assert len(result.reading.text) == 8 and result.reading.text[5] == " "


def test_attempt_turns_a_user_error_into_its_message():
    def fails() -> None:
        raise ConfigError("no such thing")

    assert attempt(fails, "trying") == Failure("No such thing.")


def test_attempt_turns_a_bug_into_plain_words_and_logs_the_traceback(caplog):
    def breaks() -> None:
        raise ZeroDivisionError("division by zero")

    with caplog.at_level(logging.ERROR, logger="apps"):
        result = attempt(breaks, "reading x.png")
    assert isinstance(result, Failure)
    assert "Something went wrong while reading x.png" in result.message
    assert "ZeroDivisionError" not in result.message
    assert "ZeroDivisionError" in caplog.text


# --- settings, figures, samples ---------------------------------------------------------------


def test_settings_come_from_the_environment():
    assert from_env({}) == Settings()
    settings = from_env({MODEL_ENV: " m.keras ", MAX_PIXELS_ENV: "1_000_000"})
    assert settings == Settings(model="m.keras", max_pixels=1_000_000)


@pytest.mark.parametrize("value", ["0", "-5", "lots"])
def test_a_bad_pixel_limit_fails_in_words(value):
    with pytest.raises(ConfigError, match=MAX_PIXELS_ENV):
        from_env({MAX_PIXELS_ENV: value})


def test_enlarge_keeps_every_pixel_a_sharp_square():
    image = np.arange(28 * 28, dtype=np.uint8).reshape(28, 28)
    big = figures.enlarge(image, 6)
    assert big.shape == (168, 168)
    assert (big[6:12, 12:18] == image[1, 2]).all()


def test_the_top_k_table_lists_the_most_likely_first(predictor, sample_png):
    prediction = predictor.predict(decode_image(sample_png))
    table = figures.top_k_table(prediction)
    assert list(table["character"]) == [label for label, _ in prediction.top_k]
    assert table["probability"].is_monotonic_decreasing


def test_the_top_k_chart_keeps_a_fixed_0_to_100_percent_axis(predictor, sample_png):
    """On an axis fitted to the data, five guesses of 3 % would all look certain."""
    spec = figures.top_k_chart(predictor.predict(decode_image(sample_png))).to_dict()
    bars = spec["layer"][0]["encoding"]
    assert bars["x"]["scale"]["domain"][0] == 0 and bars["x"]["axis"]["values"][-1] == 1
    assert bars["x"]["axis"]["format"] == "%"


def test_the_top_k_bars_are_sorted_by_an_explicit_list_most_likely_first(predictor, sample_png):
    """Streamlit reuses a chart's view for the next answer; an axis in the data's order would
    keep the previous answer's order."""
    prediction = predictor.predict(decode_image(sample_png))
    spec = figures.top_k_chart(prediction).to_dict()
    assert spec["layer"][0]["encoding"]["y"]["sort"] == [label for label, _ in prediction.top_k]


@pytest.mark.parametrize(
    ("probability", "written"),
    [(0.9996, "99.9%"), (1.0, "100.0%"), (0.5, "50.0%"), (0.0004, "0.0%"), (0.123, "12.3%")],
)
def test_a_probability_is_written_with_one_decimal_never_rounded_up(probability, written):
    """So "100 % sure" never stands beside a bar that says 99.6 %."""
    assert figures.percent(probability) == written


def test_the_top_k_labels_are_written_as_the_answer_is(predictor, sample_png):
    prediction = predictor.predict(decode_image(sample_png))
    table = figures.top_k_table(prediction)
    assert list(table["shown"]) == [figures.percent(p) for _, p in prediction.top_k]
    spec = figures.top_k_chart(prediction).to_dict()
    assert spec["layer"][1]["encoding"]["text"]["field"] == "shown"


def test_boxes_are_drawn_in_colour_where_the_characters_are(predictor):
    sample = gallery.line_samples()[0]
    reading = predictor.read_line(sample.image)
    picture = figures.draw_boxes(sample.image, reading.characters)
    assert picture.shape == (*sample.image.shape, 3)
    box = reading.characters[0].box
    assert tuple(picture[box.y + box.height // 2, box.x]) == figures.BOX_COLOUR


def test_the_line_overlay_enlarges_a_small_scan(predictor):
    sample = gallery.line_samples()[0].image
    small = cv2.resize(sample, (sample.shape[1] // 4, sample.shape[0] // 4), cv2.INTER_AREA)
    reading = predictor.read_line(small)
    picture = figures.line_overlay(small, reading.characters)
    assert picture.shape[0] >= figures.OVERLAY_HEIGHT > small.shape[0]
    assert (picture == figures.BOX_COLOUR).all(axis=2).any()


def test_the_line_overlay_crops_a_big_photo_to_the_ink(predictor):
    sample = gallery.line_samples()[0].image
    paper = np.pad(sample, ((1500, 1500), (2000, 2000)), constant_values=255)
    reading = predictor.read_line(paper)
    picture = figures.line_overlay(paper, reading.characters)
    assert picture.shape[1] <= figures.OVERLAY_WIDTH
    ink_aspect = sample.shape[1] / sample.shape[0]
    assert picture.shape[1] / picture.shape[0] > ink_aspect / 2  # not mostly paper
    assert (picture == figures.BOX_COLOUR).all(axis=2).any()


def test_a_character_read_otherwise_in_context_says_what_it_reads_alone():
    alone = Prediction("O", 0.4, (("0", 0.6), ("O", 0.4)), np.zeros((28, 28), np.uint8))
    same = Prediction("H", 0.99, (("H", 0.99),), np.zeros((28, 28), np.uint8))
    assert figures.character_caption(alone) == "O · 40.0% (alone: 0)"
    assert figures.character_caption(same) == "H · 99.0%"


def test_the_results_table_has_one_row_per_input_with_what_was_read_or_why_not(predictor):
    sample = gallery.character_samples()[0].image
    character = read_image(sample, predictor, line=False)
    line = read_image(gallery.line_samples()[0].image, predictor, line=True)
    table = figures.summary_table(
        [("a.png", character), ("b.png", line), ("c.txt", Failure("Cannot decode image."))]
    )
    assert list(table["image"]) == ["a.png", "b.png", "c.txt"]
    assert list(table["read"]) == [character.prediction.label, line.reading.text, ""]
    assert table["sure"][0] == figures.percent(character.prediction.confidence)
    weakest = min(c.confidence for c in line.reading.characters)
    assert table["sure"][1] == figures.percent(weakest)
    assert table["note"][2] == "Cannot decode image."


def test_line_constraints_become_a_decoding_context():
    context = line_context(" [A-Z]+ ", "KEVIN JULES\nANNA\n\n")
    assert (context.pattern, context.words) == ("[A-Z]+", ("KEVIN", "JULES", "ANNA"))
    assert line_context("", "") == Context()


def test_letters_or_digits_are_offered_only_for_a_model_that_knows_both():
    assert charsets_for(list(DIGITS + UPPERCASE)) == ["all", "letters", "digits"]
    assert charsets_for(list(DIGITS)) == ["all"]


def trained_run(val_accuracy: float, classes: int = 36, test: float | None = 0.8) -> TrainedRun:
    return TrainedRun("runs:/abc/model", "fast", "emnist_36", val_accuracy, test, classes, 0)


def test_a_run_is_named_by_its_name_and_accuracy_and_detailed_by_its_data_and_scores():
    run = trained_run(0.9234)
    assert runs.label(run) == "92.3% · fast"
    assert "emnist_36" in runs.details(run) and "**80.0%**" in runs.details(run)
    assert "not recorded" in runs.details(trained_run(0.9, test=None))


def test_a_run_near_chance_is_marked_and_warned_about():
    near = trained_run(0.03)
    assert runs.near_chance(near) and runs.label(near).startswith("⚠")
    assert "2.7%" in runs.chance_warning(near)  # guessing among 36 classes
    assert not runs.near_chance(trained_run(0.5))
    assert not runs.near_chance(trained_run(0.03, classes=0))  # classes not recorded


def test_samples_look_like_dark_ink_on_paper():
    characters, lines = gallery.character_samples(), gallery.line_samples()
    assert [s.name for s in characters] == list(gallery.CHARACTERS)
    assert [s.name for s in lines] == list(gallery.LINES)
    for sample in characters + lines:
        assert sample.image.dtype == np.uint8 and sample.image.ndim == 2
        assert np.median(sample.image) == 255 and sample.image.min() < 64


# --- finding models in MLflow -----------------------------------------------------------------


@pytest.fixture(scope="module")
def store(tmp_path_factory, model_file) -> tuple[str, list[str]]:
    """A store with three finished training runs (best, one near chance, latest, in that order of
    start), a sweep parent without metrics, and the best run registered as digits@champion."""
    root = tmp_path_factory.mktemp("store")
    uri = f"sqlite:///{root}/mlflow.db"
    client = mlflow.MlflowClient(uri)
    experiment = client.create_experiment("handrec", (root / "artifacts").as_uri())
    run_ids = []
    trained = [("experiment=best", 0.9, 0.88), ("model.filters=4", 0.03, 0.02), ("fast", 0.5, None)]
    for start, (name, val, test) in enumerate([*trained, ("sweep", None, None)]):
        run = client.create_run(
            experiment, start_time=1_790_000_000_000 + 60_000 * start, run_name=name
        )
        if val is not None:
            client.set_tag(run.info.run_id, "data.source", "emnist_36")
            client.log_param(run.info.run_id, "classes", DIGITS + UPPERCASE)
            client.log_metric(run.info.run_id, "best_val_accuracy", val)
            if test is not None:
                client.log_metric(run.info.run_id, "test_accuracy", test)
            client.log_artifacts(run.info.run_id, str(model_file.parent), "keras")
        client.set_terminated(run.info.run_id)
        run_ids.append(run.info.run_id)
    client.create_registered_model("digits")
    version = client.create_model_version("digits", f"runs:/{run_ids[0]}/model", run_ids[0])
    client.set_registered_model_alias("digits", "champion", version.version)
    client.set_registered_model_alias("digits", "older", version.version)
    return uri, run_ids


def test_a_missing_local_store_is_not_created_by_looking(tmp_path):
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    assert not has_store(uri)
    assert list_aliases(uri) == [] and list_experiments(uri) == []
    with pytest.raises(ModelNotFound, match="make run"):
        find_model("handrec", "best", tracking_uri=uri)
    assert not (tmp_path / "mlflow.db").exists()


def test_find_model_picks_the_best_or_the_latest_run_that_trained(store):
    uri, (best, _chance, latest, _parent) = store
    assert find_model("handrec", "best", tracking_uri=uri) == f"runs:/{best}/model"
    assert find_model("handrec", "latest", tracking_uri=uri) == f"runs:/{latest}/model"


def test_trained_runs_are_listed_with_what_they_were_trained_on_and_how_well_they_did(store):
    uri, (best, chance, latest, _parent) = store
    listed = trained_runs("handrec", "best", tracking_uri=uri)
    assert [run.uri for run in listed] == [f"runs:/{r}/model" for r in (best, latest, chance)]
    first = listed[0]
    assert (first.name, first.data, first.classes) == ("experiment=best", "emnist_36", 36)
    assert (first.val_accuracy, first.test_accuracy) == (0.9, 0.88)
    assert listed[1].test_accuracy is None
    latest_first = trained_runs("handrec", "latest", tracking_uri=uri)
    assert [run.uri for run in latest_first][0] == f"runs:/{latest}/model"


def test_an_unknown_experiment_or_metric_is_model_not_found(store):
    uri, _ = store
    with pytest.raises(ModelNotFound, match="no experiment 'nope'"):
        find_model("nope", tracking_uri=uri)
    with pytest.raises(ModelNotFound, match="no finished run with metric 'f1'"):
        find_model("handrec", metric="f1", tracking_uri=uri)


def test_aliases_are_listed_champion_first_and_resolve_to_their_run(store):
    uri, (best, *_) = store
    assert list_aliases(uri) == ["models:/digits@champion", "models:/digits@older"]
    assert list_experiments(uri) == ["Default", "handrec"]
    assert run_uri("models:/digits@champion", uri) == f"runs:/{best}/model"


# --- the page ---------------------------------------------------------------------------------


@pytest.fixture
def page(monkeypatch, tmp_path, model_file):
    """page(**env) → the page run once, with HANDREC_MODEL set to the tiny model unless given,
    and an empty tracking store unless MLFLOW_TRACKING_URI is given."""

    def start(**env: str) -> AppTest:
        env = {
            MODEL_ENV: str(model_file),
            "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path}/m.db",
        } | env
        for name, value in env.items():
            if value:
                monkeypatch.setenv(name, value)
            else:
                monkeypatch.delenv(name, raising=False)
        st.cache_data.clear()
        return AppTest.from_file(str(PAGE), default_timeout=TIMEOUT).run()

    return start


def shown(app: AppTest) -> dict[str, str]:
    return {metric.label: metric.value for metric in app.metric}


def test_uploading_an_image_shows_its_prediction(page, predictor, sample_png):
    app = page()
    app.file_uploader(key="upload").set_value(("two.png", sample_png, "image/png")).run()
    assert not app.exception
    assert shown(app) == {"Prediction": predictor.predict(decode_image(sample_png)).label}
    assert any("What the model saw" in str(image.captions) for image in app.image)


def test_uploading_several_images_shows_each_result_and_each_failure(page, sample_png):
    app = page()
    files = [
        ("good.png", sample_png, "image/png"),
        ("notes.txt", b"shopping list", "text/plain"),
        ("empty.png", b"", "image/png"),
    ]
    app.file_uploader(key="upload").set_value(files).run()
    assert not app.exception
    assert len(app.metric) == 1
    errors = [error.value for error in app.error]
    assert errors == [
        "**notes.txt**: Cannot decode image: not a known image format.",
        "**empty.png**: Empty image file: there are no bytes to decode.",
    ]


def test_many_uploads_are_summed_up_in_a_table_first_each_result_folded_below(page, sample_png):
    app = page()
    files = [(f"{n}.png", sample_png, "image/png") for n in range(4)] + [
        ("x.txt", b"x", "text/plain")
    ]
    app.file_uploader(key="upload").set_value(files).run()
    assert not app.exception
    (table,) = app.dataframe
    assert list(table.value["image"]) == [name for name, _, _ in files]
    assert "not a known image format" in table.value["note"].iloc[-1]
    folded = [expander.label.split(":")[0] for expander in app.expander][: len(files)]
    assert folded == [name for name, _, _ in files] and len(app.metric) == 4


def test_a_huge_image_is_refused_with_the_limit(page, sample_png):
    app = page(**{MAX_PIXELS_ENV: "1000"})
    app.file_uploader(key="upload").set_value(("big.png", sample_png, "image/png")).run()
    (error,) = app.error
    assert "too large" in error.value and "the limit is 1,000" in error.value


def test_without_a_model_file_or_alias_the_shipped_model_is_the_default(page):
    app = page(**{MODEL_ENV: ""})
    assert not app.exception and not app.error
    assert app.radio(key="source").value == "The model that ships with handrec"
    app.button(key="sample-7").click().run()
    assert list(shown(app)) == ["Prediction"]


def test_the_shipped_model_is_named_in_the_sidebar_not_by_its_install_path(page):
    captions = " ".join(caption.value for caption in page(**{MODEL_ENV: ""}).caption)
    assert f"Loaded `{shipped.EMNIST36.name}`" in captions
    assert str(shipped.EMNIST36.parent) not in captions


def test_without_any_model_the_page_says_how_to_train_one(page, monkeypatch, tmp_path):
    monkeypatch.setattr(shipped, "EMNIST36", tmp_path / "deleted")
    app = page(**{MODEL_ENV: ""})
    assert not app.exception
    assert "No model to read with" in app.warning[0].value
    assert "no experiment" in app.sidebar.error[0].value
    assert [code.value for code in app.sidebar.code] == ["make run"]
    assert app.file_uploader(key="upload")


def test_a_missing_model_file_is_named_in_the_sidebar_with_the_fix(page, tmp_path):
    app = page(**{MODEL_ENV: str(tmp_path / "nope.keras")})
    (error,) = app.sidebar.error
    assert "Model not found" in error.value and "nope.keras" in error.value
    assert [code.value for code in app.sidebar.code] == ["make run"]


def test_a_model_that_fails_keeps_the_inputs_and_choices_and_reads_them_once_one_loads(
    page, model_file, tmp_path, sample_png
):
    app = page()
    app.radio(key="charset").set_value("letters").run()
    app.file_uploader(key="upload").set_value(("two.png", sample_png, "image/png")).run()
    assert list(shown(app)) == ["Prediction"]
    app.text_input[0].input(str(tmp_path / "mistyped.keras")).run()
    assert "Model not found" in app.sidebar.error[0].value
    assert not app.metric and "No model to read with" in app.warning[0].value
    assert app.file_uploader(key="upload").value[0].name == "two.png"
    app.text_input[0].input(str(model_file)).run()
    assert not app.error and list(shown(app)) == ["Prediction"]
    assert app.radio(key="charset").value == "letters" and app.metric[0].value.isalpha()


def test_letters_only_reads_every_character_as_a_letter(page):
    app = page()
    app.radio(key="charset").set_value("letters").run()
    for name in gallery.CHARACTERS[:3]:
        app.button(key=f"sample-{name}").click().run()
        (answer,) = app.metric
        assert answer.value.isalpha(), name


def test_digits_only_reads_a_line_as_digits_and_shows_the_free_reading_beside_it(page):
    app = page()
    app.toggle[0].set_value(True).run()
    app.radio(key="charset").set_value("digits").run()
    app.button(key="sample-HELLO 42").click().run()
    decoded, free = [code.value for code in app.code]
    assert decoded.replace(" ", "").isdigit() and free.replace(" ", "").isdigit()


def test_the_model_is_loaded_once_not_on_every_rerun(page, monkeypatch, tmp_path):
    fresh = tiny_model(tmp_path / "fresh")
    loads = []
    original = Predictor.load.__func__

    def counting(cls, *args, **kwargs):
        loads.append(args[0])
        return original(cls, *args, **kwargs)

    monkeypatch.setattr(Predictor, "load", classmethod(counting))
    app = page(**{MODEL_ENV: str(fresh)})
    app.toggle[0].set_value(True).run()
    app.button(key="sample-HELLO 42").click().run()
    assert not app.exception
    assert loads == [fresh]


def test_picking_a_sample_shows_its_prediction(page):
    app = page()
    assert "Nothing drawn yet" in " ".join(info.value for info in app.info)
    app.button(key="sample-A").click().run()
    assert not app.exception
    assert list(shown(app)) == ["Prediction"]
    assert "Sample A" in " ".join(markdown.value for markdown in app.markdown)


def test_a_line_sample_shows_the_text_and_one_image_per_character(page):
    app = page()
    app.toggle[0].set_value(True).run()
    app.button(key="sample-HELLO 42").click().run()
    assert not app.exception
    decoded, free = [code.value for code in app.code]
    for text in (decoded, free):
        assert len(text) == 8 and text[5] == " "
    captions = [caption for image in app.image for caption in image.captions]
    assert "Where each character was found, and what the model read" in captions
    assert sum("%" in caption for caption in captions) == 7


def test_a_line_pattern_constrains_the_reading(page):
    app = page()
    app.toggle[0].set_value(True).run()
    app.text_input(key="pattern").input("[0-9]+").run()
    app.button(key="sample-HELLO 42").click().run()
    decoded, _free = [code.value for code in app.code]
    assert decoded.replace(" ", "").isdigit()


def test_a_pattern_that_is_no_regular_expression_is_said_in_words(page):
    app = page()
    app.toggle[0].set_value(True).run()
    app.text_input(key="pattern").input("[0-9").run()
    assert "is not a regular expression" in app.error[0].value
    app.button(key="sample-HELLO 42").click().run()
    assert len(app.code) == 2  # still read, without the pattern


def test_the_best_run_of_an_experiment_can_be_chosen(page, store):
    uri, (best, _chance, latest, _) = store
    app = page(**{"MLFLOW_TRACKING_URI": uri})
    app.radio(key="source").set_value("A run of an experiment").run()
    assert not app.exception
    assert f"runs:/{best}/model" in " ".join(caption.value for caption in app.caption)
    app.radio(key="order").set_value("latest").run()
    assert f"runs:/{latest}/model" in " ".join(caption.value for caption in app.caption)
    app.button(key="sample-7").click().run()
    assert list(shown(app)) == ["Prediction"]


def test_the_run_picker_names_runs_by_what_they_are_and_warns_near_chance(page, store):
    uri, (best, chance, _latest, _) = store
    app = page(**{"MLFLOW_TRACKING_URI": uri})
    app.radio(key="source").set_value("A run of an experiment").run()
    (picker,) = [box for box in app.sidebar.selectbox if box.label == "Run"]
    assert picker.options == ["90.0% · experiment=best", "50.0% · fast", "⚠ 3.0% · model.filters=4"]
    details = " ".join(caption.value for caption in app.sidebar.caption)
    assert "emnist_36" in details and "**90.0%**" in details and "**88.0%**" in details
    assert not app.sidebar.warning
    picker.select_index(2).run()
    assert "little better than guessing" in app.sidebar.warning[0].value
    assert f"runs:/{chance}/model" in " ".join(caption.value for caption in app.caption)


def test_without_a_model_file_the_champion_alias_is_the_default(page, store):
    uri, (best, *_) = store
    app = page(**{MODEL_ENV: "", "MLFLOW_TRACKING_URI": uri})
    assert not app.exception and not app.error
    assert app.radio(key="source").value == "A registered model"
    assert app.selectbox[0].value == "models:/digits@champion"
    assert f"runs:/{best}/model" in " ".join(caption.value for caption in app.caption)


def test_the_model_file_path_can_be_changed_on_the_page(page, model_file):
    app = page(**{MODEL_ENV: ""})
    app.radio(key="source").set_value("A .keras file").run()
    assert "No model file given" in app.error[0].value
    app.text_input[0].input(str(model_file.parent)).run()
    assert not app.error
    assert f"`{model_file.parent}`" in " ".join(caption.value for caption in app.caption)


def test_a_handrec_error_never_shows_a_traceback(page, monkeypatch, sample_png):
    def broken(*_args, **_kwargs):
        raise HandrecError("the model is broken")

    monkeypatch.setattr(Predictor, "predict", broken)
    app = page()
    app.file_uploader(key="upload").set_value(("two.png", sample_png, "image/png")).run()
    assert not app.exception
    assert app.error[0].value == "**two.png**: The model is broken."
