"""Starts the MLflow UI on the store that conf/tracking configures (what `make ui` runs).

python -m experiments.ui [--host 127.0.0.1] [--port 5000] [tracking overrides ...]
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from experiments import cli, schema


def ui_command(overrides: Sequence[str], host: str, port: int) -> list[str]:
    """The `mlflow ui` command line for the composed tracking settings."""
    tracking = schema.compose_config(overrides).tracking
    command = [
        os.path.join(os.path.dirname(sys.executable), "mlflow"),
        "ui",
        "--backend-store-uri",
        tracking.uri,
        "--host",
        host,
        "--port",
        str(port),
    ]
    if tracking.artifact_root:
        command += ["--default-artifact-root", str(tracking.artifact_root)]
    return command


def experiment_link(overrides: Sequence[str], base: str) -> str:
    """The configured experiment's runs in the UI's training view, with handrec's columns (the
    experiment is created, tagged for that view, if the store has none yet)."""
    tracking = schema.settings(schema.compose_config(overrides)).tracking
    from experiments.record import SHARED_VIEW, TRAINING_VIEW  # here, the config checked: MLflow
    from experiments.tracking import connect

    experiment_id = connect(tracking)
    return f"{base}/#/experiments/{experiment_id}/runs?{TRAINING_VIEW}&{SHARED_VIEW}"


def main(argv: Sequence[str] | None = None) -> None:
    parser = cli.parser("experiments.ui", __doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument("overrides", nargs="*", help="config overrides, e.g. tracking.uri=…")
    args = parser.parse_args(argv)
    command = ui_command(args.overrides, args.host, args.port)
    link = experiment_link(args.overrides, f"http://{args.host}:{args.port}")
    print(f"MLflow UI on {command[3]}: {link}  (Ctrl-C stops it)", flush=True)
    os.execv(command[0], command)


if __name__ == "__main__":
    cli.cli(main, schema.CONFIG_ERRORS)
