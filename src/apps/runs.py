"""How the page names an experiment's runs in its picker, and when it warns about one.

A run is picked by what it was trained on and how well it did, not by its id: "latest" once
silently picked a sweep child at 3 % accuracy, which reads little better than guessing.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING

from apps.figures import percent

if TYPE_CHECKING:
    from experiments.models import TrainedRun

NEAR_CHANCE = 3.0
"""A run whose validation accuracy is below this many times chance (1 / classes) is flagged."""


def label(run: TrainedRun) -> str:
    """One short line for the picker: validation accuracy first (a long run name is cut off at
    the sidebar's edge), then the name, marked when near chance."""
    mark = "⚠ " if near_chance(run) else ""
    return f"{mark}{percent(run.val_accuracy)} · {run.name}"


def details(run: TrainedRun) -> str:
    """The chosen run in full, under the picker: data, validation and test accuracy, start."""
    test = "not recorded" if run.test_accuracy is None else percent(run.test_accuracy)
    started = datetime.fromtimestamp(run.started_ms / 1000, timezone.utc)
    return (
        f"data **{run.data or 'not recorded'}** · validation accuracy "
        f"**{percent(run.val_accuracy)}** · test accuracy **{test}** · started "
        f"{started:%Y-%m-%d %H:%M} UTC"
    )


def near_chance(run: TrainedRun) -> bool:
    """Whether the run's validation accuracy is within NEAR_CHANCE times guessing."""
    return run.classes > 0 and run.val_accuracy < NEAR_CHANCE / run.classes


def chance_warning(run: TrainedRun) -> str:
    return (
        f"This run reads little better than guessing: {percent(run.val_accuracy)} validation "
        f"accuracy, where guessing among {run.classes} classes gets {percent(1 / run.classes)}. "
        "Pick another run."
    )
