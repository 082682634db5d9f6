"""One job: a composed config trained, evaluated on test, and recorded in MLflow.

`python -m experiments.run` (run.py) checks the config, then calls `run` here: importing this
module starts TensorFlow and MLflow, which a config error, --help or --cfg job never need.
Sweep drivers (tune, repeat) call `run` directly.
"""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Sequence
from typing import Any

import keras
import mlflow
from omegaconf import DictConfig, OmegaConf

from experiments import preflight, schema
from experiments.checkpoints import checkpoint_folder
from experiments.data import load_data, split_data
from experiments.keras_logging import EpochLogger, ResumedAt, log_model
from experiments.lifecycle import Start, TrainingRun, training_run
from experiments.record import (
    EPOCH_METRICS,
    NOTE_TAG,
    Part,
    log_datasets,
    log_per_class,
    model_name,
    run_description,
    sample_system_metrics,
    source_uris,
    summary_metrics,
)
from experiments.schema import flatten
from experiments.tracking import (
    connect,
    git_commit,
    last_logged_epoch,
    log_missing_params,
    logged_history,
    run_url,
)
from handrec.evaluation import Evaluation, evaluate
from handrec.models import build_model, flops
from handrec.plots import confusion_figure, learning_curves_figure
from handrec.training import configure_threads, strategy_scope
from handrec.training.fit import balanced_class_weights, fit

log = logging.getLogger(__name__)


def run(
    cfg: DictConfig,
    run_name: str = "default",
    parent_run_id: str | None = None,
    callbacks: Sequence[keras.callbacks.Callback] = (),
) -> float:
    """One tracked training run of a composed config; returns the best val accuracy.

    Sweep drivers call it directly with a parent run and extra per-epoch callbacks (pruning).
    """
    settings = schema.settings(cfg)
    if not configure_threads(settings.train.threads):
        log.warning(
            "train.threads=%d ignored: TensorFlow already runs in this process with "
            "other settings (start a new process, e.g. a joblib launcher job)",
            settings.train.threads,
        )
    preflight.check(settings)
    experiment_id = connect(settings.tracking)
    clear_keras()
    keras.utils.set_random_seed(settings.seed)
    resolved = OmegaConf.to_container(cfg, resolve=True)
    start = Start(
        experiment_id,
        run_name,
        {
            "git_commit": git_commit(),
            "data.source": settings.data.name,
            "model": settings.model.name,
        },
        checkpoint_folder(settings.checkpoints, resolved),
        settings.train.epochs,
        parent_run_id,
        resume=settings.train.resume,
        resume_orphan=settings.train.resume_orphan,
    )
    sample_system_metrics(settings.tracking.system_metrics)
    with training_run(start) as tracked:
        result, history = train_and_record(tracked, settings, resolved, callbacks)

    best_val = max(history["val_accuracy"])
    url = run_url(settings.tracking.uri, experiment_id, tracked.run_id)
    print(
        f"\ntest accuracy {result.accuracy:.4f} · macro-F1 {result.macro_f1:.4f} · "
        f"best val accuracy {best_val:.4f}\n"
        f"run {tracked.run_id} in experiment {settings.tracking.experiment!r}\n"
        f"see it: make ui, then open {url}"
    )
    return best_val


def train_and_record(
    tracked: TrainingRun,
    settings: schema.Config,
    resolved: dict[str, Any],
    callbacks: Sequence[keras.callbacks.Callback],
) -> tuple[Evaluation, dict[str, list[float]]]:
    """Inside the run: params, data, training, then the results, each recorded once even when
    an earlier attempt of the run got part of the way."""
    log_missing_params(tracked.run_id, flatten(resolved))
    mlflow.log_text(OmegaConf.to_yaml(resolved), "config.yaml")

    data = load_data(settings.data, settings.classes)
    mlflow.set_tag("data.fingerprint", data.fingerprint())
    parts = split_data(data, settings.data, settings.classes)
    tracked.once(
        "datasets",
        lambda: log_datasets(
            settings.data.name,
            source_uris(settings.data.sources),
            [
                Part(role, getattr(parts, role).fingerprint(), getattr(parts, role).counts())
                for role in ("train", "val", "test")
            ],
        ),
    )

    with strategy_scope(settings.train.distribute, settings.train.precision):
        model = build_model(settings.model, len(data.labels))
    log_missing_params(
        tracked.run_id,
        {f"data.n_{name}": len(getattr(parts, name)) for name in ("train", "val", "test")}
        | {"model.parameters": model.count_params(), "model.flops": flops(model)},
    )
    logged = last_logged_epoch(tracked.run_id) if tracked.resumed else 0
    started = time.perf_counter()
    epochs = fit(
        model,
        parts.train,
        parts.val,
        settings.train,
        settings.seed,
        callbacks=[EpochLogger(after=logged), ResumedAt(), *callbacks],
        checkpoint_dir=tracked.folder,
        class_weight=(
            balanced_class_weights(parts.train) if settings.data.balance == "class_weight" else None
        ),
    ).epochs
    seconds = time.perf_counter() - started
    history = keras_history(tracked.run_id)
    summary = summary_metrics(history["val_accuracy"], seconds, len(parts.train) * len(epochs))

    result = evaluate(model, parts.test)
    name = model_name(settings.model.name, settings.data.name, tracked.run_id)
    model_id = tracked.once(
        "model", lambda: log_model(model, data.labels.classes, parts.test.x[:2], name)
    )
    tracked.once(
        "test_metrics", lambda: mlflow.log_metrics(result.metrics() | summary, model_id=model_id)
    )
    tracked.once("per_class", lambda: log_per_class(result.per_class, parts.test.counts()))
    sizes = {part: len(getattr(parts, part)) for part in ("train", "val", "test")}
    note = run_description(
        settings.model.name, settings.data.name, sizes, summary, result.metrics()
    )
    tracked.once("description", lambda: mlflow.set_tag(NOTE_TAG, note))
    tracked.once("report", lambda: mlflow.log_text(result.report, "classification_report.txt"))
    tracked.once(
        "figures",
        lambda: log_figures(
            confusion_figure(result.confusion, data.labels.classes),
            learning_curves_figure(history),
        ),
    )
    return result, history


def keras_history(run_id: str) -> dict[str, list[float]]:
    """The run's per-epoch curves as MLflow holds them (all epochs, also those before a
    resumption), under Keras' names."""
    logged = logged_history(run_id, tuple(EPOCH_METRICS.values()))
    return {keras_name: logged[name] for keras_name, name in EPOCH_METRICS.items()}


def log_figures(confusion: Any, curves: Any) -> None:
    mlflow.log_figure(confusion, "confusion_matrix.png")
    mlflow.log_figure(curves, "learning_curves.png")


def clear_keras() -> None:
    """Frees the previous run's model and Keras' global state, for runs in one process.

    That takes a full garbage collection, which walks every object of the process. The first
    call freezes what survives it (the imported libraries, ~500,000 objects), so that later
    collections, automatic ones included, skip them: 0.3 s less a job in a sweep.
    """
    keras.backend.clear_session()
    if gc.get_freeze_count() == 0:
        gc.freeze()
