"""Test-set metrics: accuracy, macro-F1, per-class scores and the confusion matrix."""

from __future__ import annotations

from dataclasses import dataclass

import keras
import numpy as np
from sklearn.metrics import accuracy_score, classification_report, confusion_matrix, f1_score

from handrec.data.dataset import Dataset
from handrec.decode import charset_mask, restrict
from handrec.training.pipeline import batches


@dataclass(frozen=True)
class Evaluation:
    accuracy: float
    macro_f1: float
    per_class: dict[str, dict[str, float]]
    confusion: np.ndarray
    report: str

    def metrics(self, prefix: str = "test_") -> dict[str, float]:
        """Flat name → value pairs: overall scores plus precision/recall/F1 per class."""
        flat = {f"{prefix}accuracy": self.accuracy, f"{prefix}macro_f1": self.macro_f1}
        for name, scores in self.per_class.items():
            for score in ("precision", "recall", "f1"):
                flat[f"{prefix}{score}_{name}"] = scores[score]
        return flat


def predict_labels(model: keras.Model, data: Dataset, batch_size: int = 512) -> np.ndarray:
    probabilities = model.predict(batches(data, batch_size), verbose=0)
    return np.argmax(probabilities, axis=1)


def evaluate(model: keras.Model, data: Dataset, batch_size: int = 512) -> Evaluation:
    predicted = predict_labels(model, data, batch_size)
    return score(data.y, predicted, data.labels.classes)


def score(truth: np.ndarray, predicted: np.ndarray, classes: tuple[str, ...]) -> Evaluation:
    """Scores over every class of the label space, also those absent from `truth`."""
    labels = np.arange(len(classes))
    report = classification_report(
        truth,
        predicted,
        labels=labels,
        target_names=list(classes),
        output_dict=True,
        zero_division=0,
    )
    per_class = {
        name: {
            "precision": report[name]["precision"],
            "recall": report[name]["recall"],
            "f1": report[name]["f1-score"],
        }
        for name in classes
    }
    return Evaluation(
        accuracy=float(accuracy_score(truth, predicted)),
        macro_f1=float(f1_score(truth, predicted, labels=labels, average="macro", zero_division=0)),
        per_class=per_class,
        confusion=confusion_matrix(truth, predicted, labels=labels),
        report=classification_report(
            truth, predicted, labels=labels, target_names=list(classes), digits=4, zero_division=0
        ),
    )


def charset_accuracies(
    probabilities: np.ndarray, truth: np.ndarray, classes: tuple[str, ...]
) -> dict[str, float]:
    """Accuracy as read with each character set a person can choose: `all` classes; `kind
    known` (each sample read over its own kind, digits or letters); `letters` on the letter
    samples and `digits` on the digit samples (NaN where there are none)."""
    out = {"all": float(np.mean(probabilities.argmax(axis=1) == truth))}
    known = np.zeros(len(truth), bool)
    for kind in ("letters", "digits"):
        mask = charset_mask(classes, kind)
        rows = mask[truth]
        right = restrict(probabilities[rows], mask).argmax(axis=1) == truth[rows]
        known[rows] = right
        out[kind] = float(right.mean()) if rows.any() else float("nan")
    out["kind known"] = float(known.mean())
    return {key: out[key] for key in ("all", "kind known", "letters", "digits")}
