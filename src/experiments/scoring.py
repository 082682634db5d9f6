"""Scoring a model on a data set or on labelled lines, recorded in an MLflow evaluation run
linked to the model (what `python -m experiments.evaluate` does once its arguments and config are
checked: importing this module loads MLflow and TensorFlow).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
from mlflow.exceptions import MlflowException

from experiments import schema
from experiments.data import load_data
from experiments.lifecycle import plain_run
from experiments.models import RUN_URI, ModelNotFound, resolve_model
from experiments.record import (
    DATASET_TAG,
    EVALUATION_TAG,
    MODEL_ID_TAG,
    MODEL_NAME_TAG,
    DataSources,
    ImageSet,
    log_per_class,
    source_uris,
)
from handrec.data.dataset import Dataset
from handrec.data.lines import LabelledLine, load_lines
from handrec.data.split import split
from handrec.errors import ConfigError, first_line
from handrec.evaluation import (
    character_error_rate,
    charset_accuracies,
    lookalike_error_share,
    score,
    top_confusions,
)
from handrec.inference import Predictor
from handrec.model_files import MODEL_FILE, model_file
from handrec.plots import confusion_figure, misclassified_figure
from handrec.preprocess import decode_image

MODEL_DIGEST_TAG = "handrec.model_digest"
MAX_SHOWN_ERRORS = 50


@dataclass(frozen=True)
class ModelUnderTest:
    """A model to score: where its files are, its name, and the MLflow logged model it is."""

    ref: str
    path: Path
    name: str
    model_id: str


def model_under_test(ref: str, path: Path, experiment_id: str) -> ModelUnderTest:
    """A reference → the model's files and its MLflow logged model: `runs:/…` and `models:/…`
    resolved, else `path`, the file or folder it names (the shipped model's for `shipped`), which
    becomes an external logged model, found again by its content on the next run."""
    if ref.startswith(("runs:/", "models:/")):
        path = resolve_model(ref)
        try:
            logged = logged_model_of(ref)
        except MlflowException as err:
            raise ModelNotFound(f"no logged model at {ref}: {first_line(err)}") from err
        return ModelUnderTest(ref, path, logged.name, logged.model_id)
    folder = path if path.is_dir() else path.parent
    file = model_file(path)
    if not file.is_file():
        raise ConfigError(
            f"--model {ref}: no such model file: give a .keras file, a folder holding "
            f"{MODEL_FILE}, runs:/<run id>/model, models:/<name>@<alias> or shipped"
        )
    name = folder.name if path.is_dir() else path.stem
    digest = hashlib.sha256(file.read_bytes()).hexdigest()[:16]
    logged = external_model(name, digest, experiment_id)
    return ModelUnderTest(ref, path, logged.name, logged.model_id)


def logged_model_of(ref: str) -> mlflow.entities.LoggedModel:
    """The logged model a `runs:/` or `models:/` reference names."""
    client = mlflow.MlflowClient()
    if match := RUN_URI.match(ref):
        run = client.get_run(match["run_id"])
        found = mlflow.search_logged_models(
            experiment_ids=[run.info.experiment_id],
            filter_string=f"source_run_id = '{run.info.run_id}'",
            output_format="list",
        )
        if not found:
            raise ConfigError(f"run {run.info.run_id} logged no model to evaluate")
        return found[0]
    name, _, alias = ref.removeprefix("models:/").partition("@")
    version = (
        client.get_model_version_by_alias(name, alias)
        if alias
        else client.get_model_version(*ref.removeprefix("models:/").split("/"))
    )
    if version.model_id is None:  # registered from runs:/…: the run's own logged model
        return logged_model_of(f"runs:/{version.run_id}/model")
    return client.get_logged_model(version.model_id)


def external_model(name: str, digest: str, experiment_id: str) -> mlflow.entities.LoggedModel:
    """The experiment's logged model for a model file of this content, created once."""
    found = mlflow.search_logged_models(
        experiment_ids=[experiment_id],
        filter_string=f"tags.`{MODEL_DIGEST_TAG}` = '{digest}'",
        output_format="list",
    )
    if found:
        return found[0]
    return mlflow.create_external_model(
        name=name, tags={MODEL_DIGEST_TAG: digest}, experiment_id=experiment_id
    )


def evaluation_data(
    settings: schema.Config, predictor: Predictor, part: str
) -> tuple[Dataset, str]:
    """The configured data on the model's label space, whole or one part of its split, and
    its name as evaluations show it (`emnist_36`, `emnist_36:test`)."""
    data = load_data(settings.data, list(predictor.labels.classes))
    if part != "all":
        data = getattr(split(data, settings.data.split), part)
    return data, settings.data.name if part == "all" else f"{settings.data.name}:{part}"


def evaluate_images(
    predictor: Predictor,
    model: ModelUnderTest,
    data: Dataset,
    name: str,
    settings: schema.Config,
    experiment_id: str,
) -> tuple[str, str]:
    """Scores the images and records it all; returns the one-line summary and the run id."""
    started = time.perf_counter()
    probabilities = predictor.probabilities(data.x)
    seconds = time.perf_counter() - started
    predicted = np.argmax(probabilities, axis=1)
    classes = data.labels.classes
    result = score(data.y, predicted, classes)
    metrics = {
        "accuracy": result.accuracy,
        "macro_f1": result.macro_f1,
        "kind_known_accuracy": charset_accuracies(probabilities, data.y, classes)["kind known"],
        "lookalike_error_share": lookalike_error_share(data.y, predicted, classes),
        "images_per_second": len(data) / seconds if seconds > 0 else 0.0,
    }
    dataset = ImageSet(
        name, data.fingerprint(), DataSources(source_uris(settings.data.sources)), data.counts()
    )
    with evaluation_run(
        experiment_id, model, dataset, "images", {"n_images": len(data)}, metrics
    ) as run_id:
        log_per_class(result.per_class, data.counts())
        mlflow.log_table(confusions_table(result.confusion, classes), "confusions.json")
        mlflow.log_figure(confusion_figure(result.confusion, classes), "confusion_matrix.png")
        wrong = np.flatnonzero(predicted != data.y)[:MAX_SHOWN_ERRORS]
        mlflow.log_figure(
            misclassified_figure(
                data.x[wrong], data.labels.names(data.y[wrong]), data.labels.names(predicted[wrong])
            ),
            "misclassified.png",
        )
    summary = (
        f"{model.name} on {name} ({len(data):,} images): accuracy {metrics['accuracy']:.4f} · "
        f"macro-F1 {metrics['macro_f1']:.4f} · kind known {metrics['kind_known_accuracy']:.4f} · "
        f"look-alike share of errors {metrics['lookalike_error_share']:.2f} · "
        f"{metrics['images_per_second']:,.0f} images/s"
    )
    return summary, run_id


def evaluate_lines(
    predictor: Predictor, model: ModelUnderTest, folder: Path, experiment_id: str
) -> tuple[str, str]:
    """Reads each labelled line as the page does; records CER, exact matches and every reading."""
    lines = load_lines(folder)
    read = [predictor.read_line(decode_image(line.path.read_bytes())) for line in lines]
    readings, free = [r.text for r in read], [r.free_text for r in read]
    truths = [line.text for line in lines]
    metrics = {
        "cer": character_error_rate(truths, readings),
        "cer_with_spaces": character_error_rate(truths, readings, spaces=True),
        "cer_free": character_error_rate(truths, free),
        "exact_match": float(np.mean([t == r for t, r in zip(truths, readings, strict=True)])),
    }
    name = f"lines:{folder.resolve().name}"
    dataset = ImageSet(name, lines_fingerprint(lines), DataSources([str(folder)]), {})
    with evaluation_run(
        experiment_id, model, dataset, "lines", {"n_lines": len(lines)}, metrics
    ) as run_id:
        mlflow.log_table(
            pd.DataFrame(
                {
                    "file": [line.path.name for line in lines],
                    "text": truths,
                    "read": readings,
                    "free": free,
                }
            ),
            "readings.json",
        )
    exact = sum(t == r for t, r in zip(truths, readings, strict=True))
    summary = (
        f"{model.name} on {name} ({len(lines)} lines): CER {metrics['cer']:.4f} · "
        f"{exact} of {len(lines)} read exactly"
    )
    return summary, run_id


@contextmanager
def evaluation_run(
    experiment_id: str,
    model: ModelUnderTest,
    dataset: ImageSet,
    kind: str,
    params: dict[str, int],
    metrics: dict[str, float],
) -> Iterator[str]:
    """The evaluation run of `model` on `dataset`: its params, the data set as its input and
    the scores linked to both (so the model's page lists them per data set); yields its id."""
    with plain_run(
        experiment_id, f"evaluate {model.name} on {dataset.name}", tags(model, dataset.name, kind)
    ) as run_id:
        mlflow.log_params({"model": model.ref, "data": dataset.name, **params})
        mlflow.log_input(dataset, context="evaluation", model=model_input(model))
        mlflow.log_metrics(metrics, model_id=model.model_id, dataset=dataset)
        yield run_id


def tags(model: ModelUnderTest, dataset: str, kind: str) -> dict[str, str]:
    return {
        EVALUATION_TAG: kind,
        MODEL_NAME_TAG: model.name,
        MODEL_ID_TAG: model.model_id,
        DATASET_TAG: dataset,
    }


def model_input(model: ModelUnderTest) -> mlflow.entities.LoggedModelInput:
    return mlflow.entities.LoggedModelInput(model.model_id)


def confusions_table(confusion: np.ndarray, classes: Sequence[str]) -> pd.DataFrame:
    """The most frequent mistakes: true class, predicted class, count, share of that class."""
    totals = dict(zip(classes, confusion.sum(axis=1).tolist(), strict=True))
    rows = [
        {"true": t, "predicted": p, "count": n, "share_of_true": round(n / totals[t], 4)}
        for t, p, n in top_confusions(confusion, classes)
    ]
    return pd.DataFrame(rows, columns=["true", "predicted", "count", "share_of_true"])


def lines_fingerprint(lines: Sequence[LabelledLine]) -> str:
    """A short hash of the labels and image bytes: the same folder, the same digest."""
    digest = hashlib.blake2b(digest_size=8)
    for line in lines:
        digest.update(line.text.encode() + b"\t" + line.path.read_bytes())
    return digest.hexdigest()
