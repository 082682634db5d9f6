"""Figures for a run: the confusion matrix and the learning curves."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402


def confusion_figure(confusion: np.ndarray, classes: Sequence[str]) -> Figure:
    """Row-normalised confusion matrix (recall per true class), with class names on both axes."""
    totals = confusion.sum(axis=1, keepdims=True)
    rates = np.divide(confusion, totals, out=np.zeros(confusion.shape), where=totals > 0)
    size = max(6.0, 0.28 * len(classes) + 2)
    fig, ax = plt.subplots(figsize=(size, size))
    image = ax.imshow(rates, cmap="Blues", vmin=0, vmax=1)
    ticks = np.arange(len(classes))
    ax.set_xticks(ticks, labels=list(classes))
    ax.set_yticks(ticks, labels=list(classes))
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title("confusion matrix (share of each true class)")
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    fig.tight_layout()
    return fig


def learning_curves_figure(history: dict[str, list[float]]) -> Figure:
    """Loss and accuracy per epoch, train against validation."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, metric in zip(axes, ("loss", "accuracy"), strict=True):
        for key, label in ((metric, "train"), (f"val_{metric}", "validation")):
            if key in history:
                epochs = np.arange(1, len(history[key]) + 1)
                ax.plot(epochs, history[key], marker="o", label=label)
        ax.set_xlabel("epoch")
        ax.set_title(metric)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    return fig


def samples_figure(images_by_class: dict[str, np.ndarray]) -> Figure:
    """One row per class: its name, then its sample images side by side."""
    rows = [(name, images) for name, images in images_by_class.items() if len(images)]
    columns = max((len(images) for _, images in rows), default=1)
    fig, axes = plt.subplots(
        max(len(rows), 1),
        columns,
        figsize=(0.6 * columns + 0.6, 0.6 * len(rows) + 0.4),
        squeeze=False,
    )
    for ax in axes.flat:
        ax.axis("off")
    for row, (name, images) in enumerate(rows):
        axes[row, 0].set_title(name, loc="left", fontsize=8, pad=2)
        for column, image in enumerate(images):
            axes[row, column].imshow(image, cmap="gray", vmin=0, vmax=255)
    fig.tight_layout(pad=0.2)
    return fig
