"""Compare runs in a table, pick the best by validation accuracy, register it.

python -m experiments.compare                                  # the runs of experiment handrec
python -m experiments.compare --sweep <parent run id>           # one sweep, search or repeat
python -m experiments.compare --filter "params.model.filters = '64'" --sort test_accuracy
python -m experiments.compare --sweep <id> --best               # its id and model URI
python -m experiments.compare --sweep <id> --register --name handrec   # → handrec@champion
python -m experiments.compare tracking.uri=http://host:5000     # another store (config key)
python -m experiments.compare --evaluations [--sort emnist_36 --best]  # models x data sets

The table shows the params that differ between the runs. It is sorted by the best validation
accuracy: test metrics are shown, but choosing by them would leak the test set into selection.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from experiments import cli, schema
from experiments.schema import PROJECT_ROOT, compose_config


def main(argv: Sequence[str] | None = None) -> None:
    """The runs table (or the evaluations table), the best run, its registration; the table
    and the store's queries are experiments.ranking."""
    args = parse_args(argv)
    tracking = schema.settings(compose_config(args.overrides)).tracking
    from experiments import ranking  # here, the arguments and config checked: MLflow

    ranking.open_store(tracking.uri)
    experiment = args.experiment or tracking.experiment
    if args.evaluations:
        compare_evaluations(ranking.experiment_id(experiment), args)
        return
    runs = ranking.select_runs(experiment, args.sweep, args.filter)
    args.sort = args.sort or "best_val_accuracy"
    table = ranking.sort_table(ranking.runs_table(runs), args.sort, args.ascending)
    print(ranking.printable(table).to_string(index=False))
    if args.best or args.register:
        run_id = ranking.best_run(table)
        best = ranking.printable(table).loc[run_id]
        print(f"\nbest run: {best['run']} ({args.sort} {best[args.sort]})")
        print(f"run id: {run_id}\nmodel URI: {ranking.model_uri(run_id)}")
    if args.register:
        version = ranking.register(run_id, args.name)
        print(f"registered {args.name} version {version}: models:/{args.name}@{ranking.CHAMPION}")


def compare_evaluations(experiment_id: str, args: argparse.Namespace) -> None:
    """Prints the models × data sets table, writes it as CSV, and with --best names the best
    model on the sorted data set."""
    from experiments.evaluations import data_columns, evaluations_table, sort_evaluations

    table = sort_evaluations(evaluations_table(experiment_id), args.sort, args.ascending)
    print(table.round(4).to_string(index=False))
    args.csv.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.csv, index=False)
    print(f"\nwritten to {args.csv}")
    if args.best:
        column = args.sort or data_columns(table)[0]
        best = table.iloc[0]
        print(f"best on {column}: {best['model']} ({best[column]:.4f}), models:/{best['model_id']}")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = cli.parser("experiments.compare", __doc__)
    parser.add_argument(
        "overrides", nargs="*", help="config overrides naming the store, e.g. tracking.uri=..."
    )
    parser.add_argument("--experiment", help="experiment name (default: tracking.experiment)")
    parser.add_argument("--sweep", help="only the children of this parent run")
    parser.add_argument("--filter", default="", help="an MLflow search filter string")
    parser.add_argument("--sort", help="column to sort by (default: best_val_accuracy)")
    parser.add_argument("--ascending", action="store_true", help="smallest first")
    parser.add_argument("--best", action="store_true", help="print the best run's model URI")
    parser.add_argument("--register", action="store_true", help="register it as <--name>@champion")
    parser.add_argument("--name", default="handrec", help="registered model name")
    parser.add_argument(
        "--evaluations",
        action="store_true",
        help="models x data sets from experiments.evaluate runs; --sort names a data set",
    )
    parser.add_argument(
        "--csv",
        type=Path,
        default=PROJECT_ROOT / "outputs" / "evaluations.csv",
        help="where --evaluations writes its table (default: outputs/evaluations.csv)",
    )
    return parser.parse_args(argv)


if __name__ == "__main__":
    cli.cli(main, schema.CONFIG_ERRORS)
