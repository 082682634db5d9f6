"""The recognition page: choose a model, give it images, see what it reads and why.

    make app                                  # or: streamlit run src/apps/page.py
    HANDREC_MODEL=path/to/model.keras make app

Only layout lives here; reading an input, the figures and the samples are plain functions in the
sibling modules. A model is loaded once per model (st.cache_resource), not on every rerun.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

import streamlit as st
from streamlit_drawable_canvas import st_canvas

from apps import figures, gallery
from apps.reading import (
    Character,
    Failure,
    Line,
    Result,
    attempt,
    read_bytes,
    read_image,
)
from apps.settings import MODEL_ENV, Settings, from_env
from handrec import shipped
from handrec.inference import MODEL_FILE, ModelError, Predictor

TOP_K = 5
UNSURE = 0.5
FILE, ALIAS, RUN = "A .keras file", "A registered model", "A run of an experiment"
SHIPPED = "The model that ships with handrec"
PICKS = {"best": "best validation accuracy", "latest": "latest"}
LINE_TOGGLE = "This is a line of characters"
ROW = 12


def main() -> None:
    st.set_page_config(page_title="handrec · read handwriting", page_icon="✍️", layout="wide")
    st.set_option("client.showErrorDetails", "none")
    st.set_option("client.toolbarMode", "minimal")
    st.title("✍️ Handwritten character recognition")
    st.caption("Digits 0–9 and capital letters A–Z, one character or a line of them.")
    settings = attempt(from_env, "reading the settings")
    if isinstance(settings, Failure):
        st.error(settings.message)
        st.stop()
    with st.sidebar:
        predictor = choose_model(settings)
    if isinstance(predictor, Failure):
        no_model(predictor)
        st.stop()
    line = st.toggle(LINE_TOGGLE, help="Finds each character, left to right, and reads them all.")
    upload, draw, samples = st.tabs(
        [":material/upload: Upload", ":material/draw: Draw", ":material/photo_library: Samples"]
    )
    with upload:
        upload_tab(predictor, line, settings.max_pixels)
    with draw:
        draw_tab(predictor, line, settings.max_pixels)
    with samples:
        samples_tab(predictor, line)
    how_it_works()


def choose_model(settings: Settings) -> Predictor | Failure:
    """The sidebar's model choice, loaded (once per model), or why there is none."""
    st.header("Model")
    sources = [SHIPPED, FILE, ALIAS, RUN]
    start = attempt(lambda: default_source(settings), "looking for models")
    index = sources.index(start) if isinstance(start, str) else 0
    source = st.radio("Where from", sources, index=index, key="source")
    location = attempt(lambda: model_location(source, settings), "looking for models")
    if isinstance(location, Failure):
        return location
    predictor = attempt(lambda: load_predictor(location, modified(location)), "loading the model")
    if not isinstance(predictor, Failure):
        st.caption(f"Loaded `{location}`")
        st.caption(f"{len(predictor.labels)} classes: {' '.join(predictor.labels.classes)}")
    return predictor


def default_source(settings: Settings) -> str:
    """HANDREC_MODEL if given, else the registry when it has an alias, else the shipped model
    (trained on real letters, unlike `make run`'s sample), else a run."""
    if settings.model:
        return FILE
    if registry_aliases():
        return ALIAS
    return SHIPPED if shipped.EMNIST36.is_dir() else RUN


def model_location(source: str, settings: Settings) -> str:
    """The chosen model as a local path or a `runs:/…` URI (the widgets for it drawn here)."""
    if source == SHIPPED:
        st.caption("Trained on EMNIST's handwritten digits and uppercase letters")
        return str(shipped.EMNIST36)
    if source == FILE:
        path = st.text_input(
            "Model file or folder", value=settings.model, placeholder="path/to/model.keras"
        )
        if not path.strip():
            raise ModelError(
                f"no model file given: enter the path of a .keras file, or set {MODEL_ENV}"
            )
        return path.strip()
    if source == ALIAS:
        aliases = registry_aliases()
        if not aliases:
            raise ModelError(
                "the tracking store has no registered model with an alias: register a run's model "
                "in the MLflow UI (make ui) and give it the alias champion"
            )
        return alias_run(st.selectbox("Alias", aliases))
    names = experiment_names()
    if not names:
        raise ModelError("the tracking store has no experiment yet")
    index = names.index(settings.experiment) if settings.experiment in names else 0
    experiment = st.selectbox("Experiment", names, index=index)
    pick = st.radio("Which run", list(PICKS), format_func=PICKS.get, horizontal=True)
    return best_or_latest(experiment, pick)


def no_model(failure: Failure) -> None:
    st.error(f"No model to read with. {failure.message}")
    st.markdown("Train one on the embedded sample (a few minutes on a laptop):")
    st.code("make run", language="bash")
    st.markdown("then reload this page, or choose another model in the sidebar.")


def upload_tab(predictor: Predictor, line: bool, max_pixels: int) -> None:
    files = st.file_uploader(
        "Photos or scans of handwriting: PNG, JPEG, WebP, TIFF, BMP, GIF…",
        accept_multiple_files=True,
        key="upload",
    )
    if not files:
        st.info("Upload one or more images, or try the Draw and Samples tabs.")
    for file in files or []:
        read = partial(read_bytes, file.getvalue(), predictor, line=line, max_pixels=max_pixels)
        show(file.name, attempt(read, f"reading {file.name}"))


def draw_tab(predictor: Predictor, line: bool, max_pixels: int) -> None:
    canvas = st_canvas(
        stroke_width=12 if line else 18,
        stroke_color="#000000",
        background_color="#ffffff",
        height=220 if line else 280,
        width=760 if line else 280,
        return_image_data=True,
        key=f"canvas-{'line' if line else 'character'}",
    )
    st.caption("Draw with the mouse or a finger; the canvas's toolbar undoes or clears.")
    strokes = (canvas.json_data or {}).get("objects", [])
    drawing = canvas.image_bytes if strokes else None
    if drawing is None:
        st.info(f"Nothing drawn yet: draw {'a few characters' if line else 'a character'} above.")
        return
    read = partial(read_bytes, drawing, predictor, line=line, max_pixels=max_pixels)
    show("Your drawing", attempt(read, "reading the drawing"))


def samples_tab(predictor: Predictor, line: bool) -> None:
    st.caption("Digits are real MNIST handwriting; letters are drawn with vector fonts.")
    samples = sample_images(line)
    columns = st.columns(len(samples), vertical_alignment="bottom")
    for column, sample in zip(columns, samples, strict=True):
        column.image(sample.image, width="stretch")
        column.button(
            f"Try {sample.name}",
            key=f"sample-{sample.name}",
            on_click=pick_sample,
            args=(sample.name,),
            width="stretch",
        )
    chosen = next((s for s in samples if s.name == st.session_state.get("sample")), None)
    if chosen is not None:
        read = partial(read_image, chosen.image, predictor, line=line)
        show(f"Sample {chosen.name}", attempt(read, f"reading sample {chosen.name}"))


def pick_sample(name: str) -> None:
    st.session_state["sample"] = name


def show(title: str, result: Result) -> None:
    """One input's result in its own box: the answer, or what went wrong."""
    with st.container(border=True):
        match result:
            case Character():
                show_character(title, result)
            case Line():
                show_line(title, result)
            case Failure(message=message):
                st.error(f"**{title}**: {message}")


def show_character(title: str, result: Character) -> None:
    prediction = result.prediction
    st.markdown(f"**{title}**")
    given, seen, answer, chart = st.columns([2, 2, 2, 4])
    given.image(result.image, caption="Your image", width=168)
    seen.image(figures.enlarge(prediction.image), caption="What the model saw (28×28)", width=168)
    answer.metric(
        "Prediction",
        prediction.label,
        f"{prediction.confidence:.0%} sure",
        delta_color="off",
        delta_arrow="off",
    )
    if prediction.confidence < UNSURE:
        answer.caption("The model is unsure: see its other guesses.")
    if result.maybe_line:
        answer.caption(f"This looks like several characters: turn on “{LINE_TOGGLE}”.")
    chart.caption("Top 5 guesses")
    chart.altair_chart(figures.top_k_chart(prediction), width="stretch")


def show_line(title: str, result: Line) -> None:
    reading = result.reading
    st.markdown(f"**{title}** reads")
    st.code(reading.text, language=None)
    st.image(
        figures.draw_boxes(result.image, reading.characters),
        caption="Where each character was found, and what the model read",
    )
    st.caption("What the model saw, character by character:")
    characters = reading.characters
    for start in range(0, len(characters), ROW):
        for column, character in zip(
            st.columns(ROW), characters[start : start + ROW], strict=False
        ):
            column.image(
                figures.enlarge(character.image, 3),
                caption=f"{character.label} · {character.confidence:.0%}",
            )


def how_it_works() -> None:
    with st.expander("How the page reads an image"):
        st.markdown(
            "The image becomes gray (transparent parts become paper). Paper and ink are told "
            "apart from the image's border, so dark-on-light and light-on-dark both work. The ink "
            "is cropped, scaled to fit 20×20 and centred by its centre of mass in 28×28, white on "
            "black, the way MNIST digits look. That small image is what the model sees; when an "
            "answer is wrong, look at it first. In a line, each group of touching strokes is one "
            "character, and a wide gap is a space."
        )


@st.cache_resource(max_entries=4, show_spinner="Loading the model…")
def load_predictor(location: str, modified: int) -> Predictor:
    """One Predictor per model; `modified` (the file's modification time) is part of the cache
    key, so a retrained file loads again."""
    if location.startswith("runs:/"):
        from experiments.models import resolve_model

        return Predictor.load(resolve_model(location), top_k=TOP_K)
    return Predictor.load(Path(location).expanduser(), top_k=TOP_K)


def modified(location: str) -> int:
    """A local model file's modification time in ns; 0 for a run, whose model never changes."""
    path = Path(location).expanduser()
    path = path / MODEL_FILE if path.is_dir() else path
    return path.stat().st_mtime_ns if path.is_file() else 0


@st.cache_data(ttl=30, show_spinner=False)
def registry_aliases() -> list[str]:
    from experiments.models import list_aliases

    return list_aliases()


@st.cache_data(ttl=30, show_spinner=False)
def experiment_names() -> list[str]:
    from experiments.models import list_experiments

    return list_experiments()


@st.cache_data(ttl=30, show_spinner="Finding the run…")
def best_or_latest(experiment: str, pick: str) -> str:
    from experiments.models import find_model

    return find_model(experiment, pick)


@st.cache_data(ttl=30, show_spinner=False)
def alias_run(alias: str) -> str:
    from experiments.models import run_uri

    return run_uri(alias)


@st.cache_data(show_spinner="Preparing the samples…")
def sample_images(line: bool) -> list[gallery.Sample]:
    return gallery.line_samples() if line else gallery.character_samples()


main()
