"""One job: a composed config trained, evaluated on test, and recorded in MLflow.

`python -m experiments.run` (run.py) checks the config, then calls `run` here: importing this
module starts TensorFlow and MLflow, which a config error, --help or --cfg job never need.
Sweep drivers (tune, repeat) call `run` directly.
"""

from __future__ import annotations

import gc
import logging
import shutil
from collections.abc import Sequence

import keras
import mlflow
from omegaconf import DictConfig, OmegaConf

from experiments import schema
from experiments.checkpoints import checkpoint_folder, claim, interrupted_run
from experiments.data import load_data
from experiments.tracking import (
    EpochLogger,
    connect,
    flatten,
    git_commit,
    log_model,
    logged_history,
    run_url,
    tracked_run,
)
from handrec.data.split import split
from handrec.evaluation import evaluate
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
    experiment_id = connect(settings.tracking)
    clear_keras()
    keras.utils.set_random_seed(settings.seed)
    resolved = OmegaConf.to_container(cfg, resolve=True)
    checkpoint = checkpoint_folder(settings.checkpoints, resolved)
    if not settings.train.resume:
        shutil.rmtree(checkpoint, ignore_errors=True)
    resume_id = interrupted_run(checkpoint)
    tags = {
        "git_commit": git_commit(),
        "data.source": settings.data.name,
        "model": settings.model.name,
    }
    with tracked_run(experiment_id, run_name, tags, parent_run_id, resume_id) as active:
        claim(checkpoint, active.info.run_id)
        if resume_id is None:
            mlflow.log_params(flatten(resolved))
            mlflow.log_text(OmegaConf.to_yaml(resolved), "config.yaml")

        data = load_data(settings.data, settings.classes)
        mlflow.set_tag("data.fingerprint", data.fingerprint())
        parts = split(data, settings.data.split)

        with strategy_scope(settings.train.distribute, settings.train.precision):
            model = build_model(settings.model, len(data.labels))
        if resume_id is None:
            mlflow.log_params(
                {f"data.n_{name}": len(getattr(parts, name)) for name in ("train", "val", "test")}
                | {"model.parameters": model.count_params(), "model.flops": flops(model)}
            )
        epochs = fit(
            model,
            parts.train,
            parts.val,
            settings.train,
            settings.seed,
            callbacks=[EpochLogger(), *callbacks],
            checkpoint_dir=checkpoint,
            class_weight=(
                balanced_class_weights(parts.train)
                if settings.data.balance == "class_weight"
                else None
            ),
        ).epochs
        history = logged_history(
            active.info.run_id, ("loss", "accuracy", "val_loss", "val_accuracy")
        )
        if resume_id is not None:  # no epoch runs when the interrupted fit had already ended
            first = epochs[0] if epochs else len(history["val_accuracy"]) + 1
            mlflow.set_tag("resumed_at_epoch", str(first))

        result = evaluate(model, parts.test)
        model_id = log_model(model, data.labels.classes, parts.test.x[:2])
        mlflow.log_metrics(result.metrics(), model_id=model_id)
        mlflow.log_text(result.report, "classification_report.txt")
        mlflow.log_figure(
            confusion_figure(result.confusion, data.labels.classes), "confusion_matrix.png"
        )
        mlflow.log_figure(learning_curves_figure(history), "learning_curves.png")

    best_val = max(history["val_accuracy"])
    run_id = active.info.run_id
    print(
        f"\ntest accuracy {result.accuracy:.4f} · macro-F1 {result.macro_f1:.4f} · "
        f"best val accuracy {best_val:.4f}\n"
        f"run {run_id} in experiment {settings.tracking.experiment!r}\n"
        f"see it: make ui, then open {run_url(settings.tracking.uri, experiment_id, run_id)}"
    )
    return best_val


def clear_keras() -> None:
    """Frees the previous run's model and Keras' global state, for runs in one process.

    That takes a full garbage collection, which walks every object of the process. The first
    call freezes what survives it (the imported libraries, ~500,000 objects), so that later
    collections, automatic ones included, skip them: 0.3 s less a job in a sweep.
    """
    keras.backend.clear_session()
    if gc.get_freeze_count() == 0:
        gc.freeze()
