"""Figures for a run: the confusion matrix and the learning curves.

They are bare `Figure`s, outside pyplot: nothing global holds them, so they are freed like any
object and need no closing. The run's figures have fixed margins in inches instead of a layout
pass: tight_layout draws a figure once more before it is saved, a cost every sweep job pays.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure

DPI = 80  # a 36-class confusion matrix is then 22 px a cell


def confusion_figure(confusion: np.ndarray, classes: Sequence[str]) -> Figure:
    """Row-normalised confusion matrix (recall per true class), with class names on both axes."""
    totals = confusion.sum(axis=1, keepdims=True)
    rates = np.divide(confusion, totals, out=np.zeros(confusion.shape), where=totals > 0)
    # Laid out in inches: 0.28 in a class, room for one-character tick labels, the axis labels,
    # the title and the colour bar.
    side = max(4.0, 0.28 * len(classes))
    width, height = side + 1.7, side + 1.2
    fig = Figure(figsize=(width, height), dpi=DPI)
    ax = fig.add_axes((0.7 / width, 0.7 / height, side / width, side / height))
    bar = fig.add_axes(((0.95 + side) / width, 0.7 / height, 0.25 / width, side / height))
    image = ax.imshow(rates, cmap="Blues", vmin=0, vmax=1)
    ticks = np.arange(len(classes))
    ax.set_xticks(ticks, labels=list(classes))
    ax.set_yticks(ticks, labels=list(classes))
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title("confusion matrix (share of each true class)")
    fig.colorbar(image, cax=bar)
    return fig


def learning_curves_figure(history: dict[str, list[float]]) -> Figure:
    """Loss and accuracy per epoch, train against validation."""
    fig = Figure(figsize=(10, 4), dpi=DPI)
    fig.subplots_adjust(left=0.08, right=0.98, bottom=0.13, top=0.92, wspace=0.25)
    axes = fig.subplots(1, 2)
    for ax, metric in zip(axes, ("loss", "accuracy"), strict=True):
        for key, label in ((metric, "train"), (f"val_{metric}", "validation")):
            if key in history:
                epochs = np.arange(1, len(history[key]) + 1)
                ax.plot(epochs, history[key], marker="o", label=label)
        ax.set_xlabel("epoch")
        ax.set_title(metric)
        ax.grid(alpha=0.3)
        ax.legend()
    return fig


def samples_figure(images_by_class: dict[str, np.ndarray]) -> Figure:
    """One row per class: its name, then its sample images side by side."""
    rows = [(name, images) for name, images in images_by_class.items() if len(images)]
    columns = max((len(images) for _, images in rows), default=1)
    fig = Figure(figsize=(0.6 * columns + 0.6, 0.6 * len(rows) + 0.4))
    axes = fig.subplots(max(len(rows), 1), columns, squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for row, (name, images) in enumerate(rows):
        axes[row, 0].set_title(name, loc="left", fontsize=8, pad=2)
        for column, image in enumerate(images):
            axes[row, column].imshow(image, cmap="gray", vmin=0, vmax=255)
    fig.tight_layout(pad=0.2)
    return fig


def misclassified_figure(
    images: np.ndarray, truth: Sequence[str], predicted: Sequence[str], columns: int = 10
) -> Figure:
    """A grid of misclassified images, each titled "true→predicted"."""
    rows = max(1, -(-len(images) // columns))
    fig = Figure(figsize=(0.9 * columns, 1.0 * rows + 0.2), dpi=DPI)
    fig.subplots_adjust(left=0.01, right=0.99, bottom=0.01, top=1 - 0.25 / rows, hspace=0.5)
    axes = fig.subplots(rows, columns, squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, image, true, guess in zip(axes.flat, images, truth, predicted, strict=False):
        ax.imshow(image, cmap="gray", vmin=0, vmax=255)
        ax.set_title(f"{true}→{guess}", fontsize=9, pad=2)
    return fig
