"""The recognition page below its header: the model (sidebar), what is written, the three ways to
give an image (upload, draw, samples) and what the model read in each.

Only layout lives here; reading an input, the figures, the samples and how runs are named are
plain functions in the sibling modules. A model is loaded once per model (st.cache_resource), not
on every rerun. A model that fails to load is reported in the sidebar and the inputs stay: the
uploads, the drawing and the chosen sample are read as soon as a model works again.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import streamlit as st
from streamlit_drawable_canvas import st_canvas

from apps import figures, gallery, runs
from apps.reading import (
    Character,
    Failure,
    Line,
    Result,
    attempt,
    charsets_for,
    line_context,
    read_bytes,
    read_image,
)
from apps.settings import MODEL_ENV, Settings, from_env
from handrec import shipped
from handrec.decode import Context
from handrec.inference import Predictor
from handrec.model_files import ModelError, model_file

if TYPE_CHECKING:
    from experiments.models import TrainedRun

TOP_K = 5
FILE, ALIAS, RUN = "A .keras file", "A registered model", "A run of an experiment"
SHIPPED = "The model that ships with handrec"
PICKS = {"best": "best first", "latest": "latest first"}
LINE_TOGGLE = "This is a line of characters"
CHARSETS = {"all": "letters and digits", "letters": "letters only", "digits": "digits only"}
ROW = 12
SUMMARY_FROM = 3
"""From this many results on, a table of them comes first and each result folds away: ten
uploads would otherwise make a page thousands of pixels long."""

Read = Callable[[Predictor], Result]
"""One input, ready to be read by whichever model is chosen."""


def main() -> None:
    settings = attempt(from_env, "reading the settings")
    if isinstance(settings, Failure):
        st.error(settings.message)
        st.stop()
    with st.sidebar:
        loaded = choose_model(settings)
    line, charset = reading_options(loaded)
    context = line_constraints() if line else None
    predictor = loaded if isinstance(loaded, Failure) else loaded.with_charset(charset)
    if isinstance(predictor, Failure):
        st.warning(
            "No model to read with: see the sidebar. Your images stay here and are read as soon "
            "as a model loads."
        )
    upload, draw, samples = st.tabs(
        [":material/upload: Upload", ":material/draw: Draw", ":material/photo_library: Samples"]
    )
    with upload:
        show_all(upload_tab(line, settings.max_pixels, context), predictor)
    with draw:
        show_all(draw_tab(line, settings.max_pixels, context), predictor)
    with samples:
        show_all(samples_tab(line, context), predictor)
    how_it_works()


def reading_options(loaded: Predictor | Failure) -> tuple[bool, str]:
    """Line mode, and the character set the person says is written (offered only where the
    model knows both letters and digits)."""
    mode, written = st.columns([1, 2], vertical_alignment="bottom")
    line = mode.toggle(LINE_TOGGLE, help="Finds each character, left to right, and reads them all.")
    # Without a model all three stay offered, so the choice outlives a model that failed.
    choices = charsets_for(loaded.labels.classes) if isinstance(loaded, Predictor) else [*CHARSETS]
    if len(choices) == 1:
        return line, choices[0]
    charset = written.radio(
        "What is written",
        choices,
        format_func=CHARSETS.get,
        horizontal=True,
        key="charset",
        help="Letters only (a name) or digits only (a phone number): look-alikes such as O and "
        "0, S and 5, I and 1 are then read as what they can be.",
    )
    return line, charset


def line_constraints() -> Context | None:
    """Optional constraints on a line's reading (a pattern, a word list), or None for the
    default context; a pattern that is no regular expression is said here."""
    with st.expander("Constraints for the line (optional)"):
        pattern = st.text_input(
            "The line matches (a regular expression; spaces are left out)",
            placeholder="[0-9]{10} for a phone number",
            key="pattern",
        )
        words = st.text_area(
            "Words it may hold (one per line): a word is read as the likeliest of them when it "
            "explains the image nearly as well as the free reading",
            placeholder="KEVIN\nJULES",
            key="words",
        )
        context = attempt(lambda: line_context(pattern, words), "reading the constraints")
        if isinstance(context, Failure):
            st.error(context.message)
            return None
    return context


def choose_model(settings: Settings) -> Predictor | Failure:
    """The sidebar's model choice, loaded (once per model), or why there is none, said there."""
    st.header("Model")
    sources = [SHIPPED, FILE, ALIAS, RUN]
    start = attempt(lambda: default_source(settings), "looking for models")
    index = sources.index(start) if isinstance(start, str) else 0
    source = st.radio("Where from", sources, index=index, key="source")
    location = attempt(lambda: model_location(source, settings), "looking for models")
    predictor = (
        location
        if isinstance(location, Failure)
        else attempt(lambda: load_predictor(location, modified(location)), "loading the model")
    )
    if isinstance(predictor, Failure):
        st.error(predictor.message)
        st.markdown(
            "No model yet? Train one on the embedded sample (a few minutes on a laptop), then "
            f"choose it under “{RUN}”:"
        )
        st.code("make run", language="bash")
        return predictor
    shown = shipped.EMNIST36.name if source == SHIPPED else location
    st.caption(f"Loaded `{shown}`")
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
    return choose_run(settings).uri


def choose_run(settings: Settings) -> TrainedRun:
    """A run of an experiment, picked from a list that names each by what it was trained on and
    how well it did; a run near chance is flagged, not silently taken."""
    names = experiment_names()
    if not names:
        raise ModelError("the tracking store has no experiment yet")
    index = names.index(settings.experiment) if settings.experiment in names else 0
    experiment = st.selectbox("Experiment", names, index=index)
    pick = st.radio("Order", list(PICKS), format_func=PICKS.get, horizontal=True, key="order")
    trained = trained_runs(experiment, pick)
    if not trained:
        raise ModelError(f"experiment {experiment!r} has no finished run with a model yet")
    # Keyed by the order too: choosing another order picks that order's first run.
    run = st.selectbox("Run", trained, format_func=runs.label, key=f"run-{experiment}-{pick}")
    st.caption(runs.details(run))
    if runs.near_chance(run):
        st.warning(runs.chance_warning(run))
    return run


def upload_tab(line: bool, max_pixels: int, context: Context | None) -> list[tuple[str, Read]]:
    files = st.file_uploader(
        "Photos or scans of handwriting: PNG, JPEG, WebP, TIFF, BMP, GIF…",
        accept_multiple_files=True,
        key="upload",
    )
    if not files:
        st.info("Upload one or more images, or try the Draw and Samples tabs.")
    read = partial(read_bytes, line=line, max_pixels=max_pixels, context=context)
    return [(file.name, partial(read, file.getvalue())) for file in files or []]


def draw_tab(line: bool, max_pixels: int, context: Context | None) -> list[tuple[str, Read]]:
    st.space("medium")  # room for the canvas's toolbar, which floats above its top edge
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
    if not strokes:
        st.info(f"Nothing drawn yet: draw {'a few characters' if line else 'a character'} above.")
        return []
    read = partial(
        read_bytes, canvas.image_bytes, line=line, max_pixels=max_pixels, context=context
    )
    return [("Your drawing", read)]


def samples_tab(line: bool, context: Context | None) -> list[tuple[str, Read]]:
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
    if chosen is None:
        return []
    return [
        (f"Sample {chosen.name}", partial(read_image, chosen.image, line=line, context=context))
    ]


def pick_sample(name: str) -> None:
    st.session_state["sample"] = name


def show_all(inputs: list[tuple[str, Read]], predictor: Predictor | Failure) -> None:
    """Each input's result; from SUMMARY_FROM on, a table of them first and each result folded."""
    if not inputs or isinstance(predictor, Failure):
        return
    results = [
        (title, attempt(partial(read, predictor), f"reading {title}")) for title, read in inputs
    ]
    if len(results) < SUMMARY_FROM:
        for title, result in results:
            with st.container(border=True):
                show(title, result)
        return
    st.dataframe(figures.summary_table(results), hide_index=True, width="stretch")
    for title, result in results:
        with st.expander(f"{title}: {figures.summary_row(title, result)['read'] or 'not read'}"):
            show(title, result)


def show(title: str, result: Result) -> None:
    """One input's result: the answer, or what went wrong."""
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
        f"{figures.percent(prediction.confidence)} sure",
        delta_color="off",
        delta_arrow="off",
    )
    if prediction.confidence < figures.UNSURE:
        answer.caption("The model is unsure: see its other guesses.")
    if result.maybe_line:
        answer.caption(f"This looks like several characters: turn on “{LINE_TOGGLE}”.")
    chart.caption("Top 5 guesses")
    chart.altair_chart(figures.top_k_chart(prediction), width="stretch")


def show_line(title: str, result: Line) -> None:
    reading = result.reading
    st.markdown(f"**{title}** reads")
    decoded, free = st.columns(2)
    decoded.caption("In context: each word all letters or all digits, unless the ink says not")
    decoded.code(reading.text, language=None)
    free.caption("Each character on its own")
    free.code(reading.free_text, language=None)
    if reading.pattern_matched is False:
        decoded.warning("No reading matches the pattern: this is the reading without it.")
    st.image(
        figures.line_overlay(result.image, reading.characters),
        caption="Where each character was found, and what the model read",
    )
    st.caption("What the model saw, character by character, and how sure it is:")
    characters = reading.characters
    for start in range(0, len(characters), ROW):
        for column, character in zip(
            st.columns(ROW), characters[start : start + ROW], strict=False
        ):
            column.image(
                figures.enlarge(character.image, 3), caption=figures.character_caption(character)
            )


def how_it_works() -> None:
    with st.expander("How the page reads an image"):
        st.markdown(
            "The image becomes gray (transparent parts become paper). Paper and ink are told "
            "apart from the image's border, so dark-on-light and light-on-dark both work. The ink "
            "is cropped, scaled to fit 20×20 and centred by its centre of mass in 28×28, white on "
            "black, the way MNIST digits look. That small image is what the model sees; when an "
            "answer is wrong, look at it first. In a line, each group of touching strokes is one "
            "character, and a wide gap is a space. *What is written* limits the answers to "
            "letters or digits; in a line, the characters of one word are read together, as all "
            "letters or all digits unless the ink clearly says otherwise, and the reading of each "
            "character on its own is shown beside it."
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
    path = model_file(Path(location).expanduser())
    return path.stat().st_mtime_ns if path.is_file() else 0


@st.cache_data(ttl=30, show_spinner=False)
def registry_aliases() -> list[str]:
    from experiments.models import list_aliases

    return list_aliases()


@st.cache_data(ttl=30, show_spinner=False)
def experiment_names() -> list[str]:
    from experiments.models import list_experiments

    return list_experiments()


@st.cache_data(ttl=30, show_spinner="Finding the runs…")
def trained_runs(experiment: str, pick: str) -> list[TrainedRun]:
    from experiments.models import trained_runs

    return trained_runs(experiment, pick)


@st.cache_data(ttl=30, show_spinner=False)
def alias_run(alias: str) -> str:
    from experiments.models import run_uri

    return run_uri(alias)


@st.cache_data(show_spinner="Preparing the samples…")
def sample_images(line: bool) -> list[gallery.Sample]:
    return gallery.line_samples() if line else gallery.character_samples()
