"""Which MLflow run an interrupted training continues: one checkpoint folder per config.

The folder is named by a hash of the resolved config, so re-running the same command finds it;
it records the run id, so the resumed epochs land in the same MLflow run. handrec's `fit`
writes the Keras backup into it; `lifecycle.training_run` holds its lease and removes it once
the run's results are recorded.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

RUN_ID_FILE = "mlflow_run_id"
# Settings that may change between an interruption and its resumption.
NOT_IN_KEY = {"train": ("epochs", "verbose", "resume", "resume_orphan")}


def checkpoint_folder(root: str | Path, resolved: dict[str, Any]) -> Path:
    """The folder for this config: `root/<hash of the config, less NOT_IN_KEY>`."""
    keyed = {k: dict(v) if isinstance(v, dict) else v for k, v in resolved.items()}
    for section, keys in NOT_IN_KEY.items():
        for key in keys:
            keyed.get(section, {}).pop(key, None)
    digest = hashlib.sha256(json.dumps(keyed, sort_keys=True, default=str).encode())
    return Path(root) / digest.hexdigest()[:16]


def interrupted_run(folder: Path) -> str | None:
    """The run id an earlier, unfinished training of this config recorded, if any."""
    path = folder / RUN_ID_FILE
    return path.read_text().strip() or None if path.exists() else None


def claim(folder: Path, run_id: str) -> None:
    """Records the run of `folder`, written aside and renamed: never an empty or partial id."""
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / f"{RUN_ID_FILE}.partial"
    partial.write_text(run_id)
    os.replace(partial, folder / RUN_ID_FILE)
