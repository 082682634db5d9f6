"""Scores of a model on labelled data: accuracy, macro-F1, per-class scores, the confusion
matrix, what look-alike characters cost, and the character error rate of read lines."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import keras
import numpy as np
from sklearn.metrics import accuracy_score, classification_report, confusion_matrix, f1_score

from handrec.data.dataset import Dataset
from handrec.decode import charset_mask, restrict


@dataclass(frozen=True)
class Evaluation:
    accuracy: float
    macro_f1: float
    per_class: dict[str, dict[str, float]]
    confusion: np.ndarray
    report: str

    def metrics(self, prefix: str = "test_") -> dict[str, float]:
        """The overall scores as name → value; per-class scores are in `per_class` (a table,
        not 108 numbers)."""
        return {f"{prefix}accuracy": self.accuracy, f"{prefix}macro_f1": self.macro_f1}


def predict_labels(model: keras.Model, data: Dataset, batch_size: int = 512) -> np.ndarray:
    """Each image's most likely class, from the model called on batches as they are:
    model.predict traces a graph for every new model, 0.1 s of a sweep job's CPU for 108 test
    images that the eager model reads in 0.02 s."""
    rows = [
        keras.ops.convert_to_numpy(model(data.x[start : start + batch_size], training=False))
        for start in range(0, len(data), batch_size)
    ]
    return np.argmax(np.concatenate(rows), axis=1) if rows else np.zeros(0, np.int64)


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


# Characters many writers draw alike: most 36-way errors are within these pairs.
LOOKALIKE_PAIRS = (("O", "0"), ("I", "1"), ("S", "5"), ("Z", "2"), ("B", "8"), ("G", "6"))


def lookalike_error_share(
    truth: np.ndarray, predicted: np.ndarray, classes: Sequence[str]
) -> float:
    """The share of errors that confuse the two characters of a look-alike pair (O/0, I/1, …),
    either way round; 0 without errors."""
    pairs = {frozenset(pair) for pair in LOOKALIKE_PAIRS}
    wrong = np.flatnonzero(truth != predicted)
    if not len(wrong):
        return 0.0
    within = sum(frozenset((classes[truth[i]], classes[predicted[i]])) in pairs for i in wrong)
    return within / len(wrong)


def top_confusions(
    confusion: np.ndarray, classes: Sequence[str], n: int = 10
) -> list[tuple[str, str, int]]:
    """The `n` most frequent (true, predicted) mistakes, most frequent first."""
    off = confusion.copy()
    np.fill_diagonal(off, 0)
    order = np.argsort(off, axis=None, kind="stable")[::-1][:n]
    cells = [np.unravel_index(i, off.shape) for i in order]
    return [(classes[t], classes[p], int(off[t, p])) for t, p in cells if off[t, p] > 0]


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance: insertions, deletions and substitutions turning `a` into `b`."""
    previous = list(range(len(b) + 1))
    for i, char in enumerate(a, start=1):
        current = [i]
        for j, other in enumerate(b, start=1):
            current.append(
                min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char != other))
            )
        previous = current
    return previous[-1]


def character_error_rate(
    truths: Sequence[str], readings: Sequence[str], spaces: bool = False
) -> float:
    """Edits over all lines divided by the characters of the true texts. Spaces are left out
    of both unless `spaces`: where a word breaks is a question apart from what its characters
    are."""

    def text(line: str) -> str:
        return line if spaces else line.replace(" ", "")

    pairs = [(text(t), text(r)) for t, r in zip(truths, readings, strict=True)]
    return sum(edit_distance(t, r) for t, r in pairs) / max(1, sum(len(t) for t, _ in pairs))
