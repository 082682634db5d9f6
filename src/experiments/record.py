"""What a run records, named so that the MLflow UI reads well: metric names, summary metrics,
the per-class table, the data sets, the logged model's name, and what a parent run sums up.

The UI groups a run's charts by the part of a metric's name before the first `/` and puts
metrics without one in its first section, "Model metrics". So the per-epoch curves are
`train/…` and `val/…`, and the numbers a person compares runs by (best validation accuracy,
test scores, time) have no prefix and come first. Per-class scores are one table, not 108 charts.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import mlflow
import pandas as pd
from mlflow.data.dataset import Dataset as MlflowDataset
from mlflow.data.dataset_source import DatasetSource
from mlflow.entities import Param, Run

# MLflow 3 opens an experiment in its classic-ML ("Model training") view with this tag.
EXPERIMENT_KIND_TAG = "mlflow.experimentKind"
TRAINING_KIND = "custom_model_development"
# The query parameter that makes the UI show its training view whatever the browser last used.
TRAINING_VIEW = "workflowType=machine_learning"
NOTE_TAG = "mlflow.note.content"
# A saved view of the runs table (the UI's "Views" menu), opened by links with SHARED_VIEW: the
# columns a person compares training runs by, instead of Source and Models alone.
SHARED_VIEW_KEY = "handrec"
SHARED_VIEW_TAG = f"mlflow.sharedViewState.{SHARED_VIEW_KEY}"
SHARED_VIEW = f"viewStateShareKey={SHARED_VIEW_KEY}"
TABLE_COLUMNS = (
    "attributes.`Dataset`",
    "metrics.`best_val_accuracy`",
    "metrics.`test_accuracy`",
    "metrics.`test_macro_f1`",
    "metrics.`training_seconds`",
    "attributes.`Models`",
)
# "parent" on the run that groups a sweep's, search's or repeat's children.
PARENT_TAG = "handrec.sweep"
# Evaluation runs (experiments.evaluate): images | lines, the model and the data set scored.
EVALUATION_TAG = "handrec.evaluation"
MODEL_NAME_TAG = "handrec.model_name"
MODEL_ID_TAG = "handrec.model_id"
DATASET_TAG = "handrec.dataset"

# Keras' epoch logs → the names runs record.
EPOCH_METRICS = {
    "loss": "train/loss",
    "accuracy": "train/accuracy",
    "val_loss": "val/loss",
    "val_accuracy": "val/accuracy",
}
VAL_ACCURACY = EPOCH_METRICS["val_accuracy"]
# A learning rate of 1e-3 draws as a flat 0 on a linear axis; its exponent reads at any scale.
LOG10_LEARNING_RATE = "train/log10_learning_rate"
# Summary metrics: one value a run, no prefix, so they lead the run page and fill the runs table.
SUMMARY = (
    "best_val_accuracy",
    "best_epoch",
    "test_accuracy",
    "test_macro_f1",
    "training_seconds",
    "samples_per_second",
)
# What parents sum up over their children (mean ± std) and rank them by.
COMPARED = ("best_val_accuracy", "test_accuracy", "test_macro_f1")
PER_CLASS_TABLE = "per_class.json"
CONTEXTS = {"train": "training", "val": "validation", "test": "testing"}


def training_view(created_ms: int) -> str:
    """The saved view's tag value: MLflow's envelope around the runs table's state (as the UI
    stores it), showing each run's data set and summary metrics."""
    state = {
        "searchFilter": "",
        "orderByKey": "attributes.start_time",
        "orderByAsc": False,
        "startTime": "ALL",
        "lifecycleFilter": "Active",
        "datasetsFilter": [],
        "modelVersionFilter": "All Runs",
        "selectedColumns": list(TABLE_COLUMNS),
        "columnOrder": [],
        "columnWidths": {"attributes.`Dataset`": 260},
        "runsExpanded": {},
        "runsPinned": [],
        "runsHidden": [],
        "runsVisibilityMap": {},
        "runsHiddenMode": "FIRST_10_RUNS",
        "viewMaximized": False,
        "runListHidden": False,
        "isAccordionReordered": False,
        "useGroupedValuesInCharts": True,
        "hideEmptyCharts": True,
        "groupBy": None,
        "groupsExpanded": {},
        "autoRefreshEnabled": True,
        "globalLineChartConfig": {
            "xAxisKey": "step",
            "lineSmoothness": 0,
            "selectedXAxisMetricKey": "",
        },
    }
    envelope = {
        "name": "handrec: training runs",
        "createdAt": created_ms,
        "updatedAt": created_ms,
        "state": json.dumps(state),
    }
    return json.dumps(envelope)


def sample_system_metrics(enabled: bool) -> None:
    """Whether the runs this process starts next record MLflow's system metrics (CPU, memory,
    disk, GPU), sampled every 10 s. The sampler's start and stop lines are not printed: a run's
    output is Keras' progress and its summary; its warnings still are."""
    logging.getLogger("mlflow.system_metrics").setLevel(logging.WARNING)
    if enabled:
        mlflow.enable_system_metrics_logging()
    else:
        mlflow.disable_system_metrics_logging()


def epoch_metrics(logs: Mapping[str, float]) -> dict[str, float]:
    """One epoch's Keras logs under the recorded names (unknown keys keep theirs)."""
    named = {}
    for key, value in logs.items():
        if key == "learning_rate":
            named[LOG10_LEARNING_RATE] = math.log10(value) if value > 0 else float("nan")
        else:
            named[EPOCH_METRICS.get(key, key)] = float(value)
    return named


def summary_metrics(
    val_accuracy: Sequence[float], seconds: float, samples_seen: int
) -> dict[str, float]:
    """Best validation accuracy and its epoch (1-based), training time and throughput."""
    best = max(range(len(val_accuracy)), key=val_accuracy.__getitem__)
    return {
        "best_val_accuracy": val_accuracy[best],
        "best_epoch": best + 1,
        "training_seconds": seconds,
        "samples_per_second": samples_seen / seconds if seconds > 0 else 0.0,
    }


def run_description(
    model: str, data: str, sizes: Mapping[str, int], summary: Mapping[str, float], test: Mapping
) -> str:
    """A training run's note (Markdown, its page's Description): what was trained on what, and
    how it did."""
    split = " / ".join(f"{n:,} {part}" for part, n in sizes.items())
    return (
        f"**{model}** trained on **{data}** ({split}): best validation accuracy "
        f"{summary['best_val_accuracy']:.4f} at epoch {summary['best_epoch']}; test accuracy "
        f"{test['test_accuracy']:.4f}, macro-F1 {test['test_macro_f1']:.4f}; "
        f"{summary['training_seconds']:.1f} s of training "
        f"({summary['samples_per_second']:,.0f} samples/s)."
    )


def per_class_table(per_class: Mapping[str, Mapping[str, float]], support: Mapping[str, int]):
    """Per-class precision, recall, F1 and support, one row a class: the UI shows it as a table."""
    return pd.DataFrame(
        [
            {"class": name, **{k: round(v, 4) for k, v in scores.items()}, "support": support[name]}
            for name, scores in per_class.items()
        ]
    )


def log_per_class(per_class: Mapping[str, Mapping[str, float]], support: Mapping[str, int]) -> None:
    mlflow.log_table(per_class_table(per_class, support), PER_CLASS_TABLE)


class DataSources(DatasetSource):
    """Where a data config's images come from: its files, folders or URLs."""

    def __init__(self, uris: Sequence[str]) -> None:
        self.uris = list(uris)

    @staticmethod
    def _get_source_type() -> str:
        return "handrec"

    def load(self, **kwargs: Any) -> Any:
        raise NotImplementedError("prepare the data with python -m experiments.data")

    @staticmethod
    def _can_resolve(raw_source: Any) -> bool:
        return False

    @classmethod
    def _resolve(cls, raw_source: Any) -> DataSources:
        raise NotImplementedError

    def to_dict(self) -> dict[str, Any]:
        return {"uris": self.uris}

    @classmethod
    def from_dict(cls, source_dict: dict[str, Any]) -> DataSources:
        return cls(source_dict.get("uris", []))


class ImageSet(MlflowDataset):
    """A part of a data set as MLflow records it: name, digest (handrec's fingerprint), its
    sources and a profile of counts. Same data, same digest: runs on it show the same input."""

    def __init__(self, name: str, digest: str, source: DataSources, counts: Mapping[str, int]):
        self._counts = dict(counts)
        super().__init__(source=source, name=name, digest=digest)

    def _compute_digest(self) -> str:
        raise NotImplementedError("ImageSet takes handrec's fingerprint as its digest")

    @property
    def profile(self) -> dict[str, Any]:
        present = [n for n in self._counts.values() if n]
        return {
            "num_rows": sum(self._counts.values()),
            "num_classes": len(present),
            "min_per_class": min(present, default=0),
            "max_per_class": max(present, default=0),
        }

    @property
    def schema(self) -> None:
        return None

    def to_dict(self) -> dict[str, str]:
        return {**super().to_dict(), "profile": json.dumps(self.profile)}


def source_uris(sources: Mapping[str, Any]) -> list[str]:
    """Each source's file, folder or URL; a source without one (the embedded sample) by kind."""
    uris = []
    for key, spec in sources.items():
        location = getattr(spec, "path", None) or getattr(spec, "url", None)
        uris.append(str(location) if location else f"handrec:{key}")
    return uris


@dataclass(frozen=True)
class Part:
    """One part of a split, for `log_datasets`: its role, fingerprint and class counts."""

    role: str  # train | val | test | all
    fingerprint: str
    counts: Mapping[str, int]


def image_set(name: str, uris: Sequence[str], part: Part) -> ImageSet:
    return ImageSet(name, part.fingerprint, DataSources(uris), part.counts)


def log_datasets(name: str, uris: Sequence[str], parts: Sequence[Part]) -> None:
    """The run's inputs: one MLflow dataset a part, its context the part's role."""
    mlflow.log_inputs(
        datasets=[image_set(name, uris, part) for part in parts],
        contexts=[CONTEXTS.get(part.role, part.role) for part in parts],
        tags_list=[None] * len(parts),
    )


def model_name(model: str, data: str, run_id: str) -> str:
    """A logged model's name: what it is, what it learnt from, and which run (MLflow refuses
    `.`, `/`, `:` and quotes in names)."""
    return f"{model}-{data}-{run_id[:8]}"


def is_parent(run: Run) -> bool:
    return run.data.tags.get(PARENT_TAG) == "parent"


def summarise_parent(parent_run_id: str, children: Sequence[Run], kind: str) -> None:
    """What a sweep, search or repeat parent shows: the mean ± std of each compared metric over
    its finished children (`<metric>_mean`, `<metric>_std`), its best child's summary metrics
    under their own names and data sets, `best_run_id`/`best_run_name`, and a description."""
    client = mlflow.MlflowClient()
    finished = [c for c in children if c.info.status == "FINISHED"]
    stats = statistics(finished)
    metrics = {f"{m}_{s}": v for m, row in stats.items() for s, v in row.items() if pd.notna(v)}
    best = best_child(finished)
    if best is not None:
        metrics.update({k: v for k, v in best.data.metrics.items() if k in SUMMARY})
        client.set_tag(parent_run_id, "best_run_id", best.info.run_id)
        client.set_tag(parent_run_id, "best_run_name", best.info.run_name)
        if best.inputs.dataset_inputs:
            client.log_inputs(parent_run_id, datasets=best.inputs.dataset_inputs)
    for key, value in metrics.items():
        client.log_metric(parent_run_id, key, float(value))
    client.set_tag(parent_run_id, NOTE_TAG, description(kind, children, stats, best))


def statistics(runs: Sequence[Run]) -> dict[str, dict[str, float]]:
    """metric → {"mean": …, "std": …} over the runs that logged it (std needs two)."""
    stats = {}
    for metric in COMPARED:
        values = pd.Series([r.data.metrics[metric] for r in runs if metric in r.data.metrics])
        if len(values):
            stats[metric] = {"mean": float(values.mean()), "std": float(values.std())}
    return stats


def best_child(runs: Sequence[Run]) -> Run | None:
    """The finished child with the highest best validation accuracy (never chosen by test); a
    pruned trial is not a candidate, as in Optuna's own choice."""
    scored = [
        r
        for r in runs
        if "best_val_accuracy" in r.data.metrics and r.data.tags.get("optuna.pruned") != "true"
    ]
    return max(scored, key=lambda r: r.data.metrics["best_val_accuracy"], default=None)


def description(
    kind: str, children: Sequence[Run], stats: Mapping[str, Mapping[str, float]], best: Run | None
) -> str:
    """The parent's note (Markdown, shown on its page): what ran, how it went, the best run."""
    statuses = pd.Series([c.info.status for c in children]).value_counts().to_dict()
    counts = ", ".join(f"{n} {status.lower()}" for status, n in sorted(statuses.items()))
    lines = [f"**{kind}** of {len(children)} runs ({counts or 'none'})."]
    if stats:
        lines += ["", "| metric | mean | std |", "|---|---|---|"]
        lines += [
            f"| {metric} | {row['mean']:.4f} | {row['std']:.4f} |" for metric, row in stats.items()
        ]
    if best is not None:
        scores = " · ".join(
            f"{m} {best.data.metrics[m]:.4f}" for m in COMPARED if m in best.data.metrics
        )
        lines += [
            "",
            f"Best by validation accuracy: **{best.info.run_name}** ({scores}), "
            f"run `{best.info.run_id}`.",
        ]
    return "\n".join(lines)


def log_parent_params(parent_run_id: str, overrides: Sequence[str]) -> None:
    """A parent's overrides as its params (`model.filters=8,16` → model.filters: "8,16"), so
    the runs table shows what each sweep, search or repeat varied. A key given twice has its
    last value, as in Hydra (MLflow refuses a batch that repeats a key)."""
    pairs = (override.partition("=") for override in overrides)
    params = [Param(key, value) for key, value in {k.lstrip("+~"): v for k, _, v in pairs}.items()]
    if params:
        mlflow.MlflowClient().log_batch(parent_run_id, params=params)
