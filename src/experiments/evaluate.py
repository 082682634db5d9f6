"""Score a trained model on any data set, in an MLflow evaluation run linked to the model.

python -m experiments.evaluate                                  # the shipped model on data=sample
python -m experiments.evaluate --model runs:/<run id>/model data=emnist_36 \\
    data.sources.emnist.path=../shared/data/emnist data.sources.emnist.part=test
python -m experiments.evaluate --model models:/handrec@champion --part test
python -m experiments.evaluate --model my.keras data=image_folder \\
    data.sources.image_folder.path=scans classes=0123456789
python -m experiments.evaluate --lines ../shared/data/lines/names   # CER and exact match

--model takes a .keras file or a folder holding one, `runs:/…`, `models:/name@alias` or
`shipped` (the default). The data is any `data=` config, whole (--part all) or one part of its
split. The run records 36-way accuracy and macro-F1, the accuracy when each character's kind
(digit or letter) is known, the share of errors within look-alike pairs (O/0, I/1, S/5, Z/2,
B/8, G/6), a per-class table, the top confusions, the confusion matrix and a grid of the
misclassified images. The metrics are linked to the model and the data set, so the model's page
in the UI lists its score on each data set; `python -m experiments.compare --evaluations` tables
them. --lines reads every line image of a folder with labels.tsv (file<TAB>text) as the page
reads a line, and records the character error rate (`cer`, spaces left out; `cer_with_spaces`)
and the share of lines read exactly, spaces included, with context as the page reads (and
`cer_free`, each character read on its own).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from experiments import cli, schema
from experiments.schema import compose_config
from handrec import shipped
from handrec.errors import ConfigError

PARTS = ("all", "train", "val", "test")
SHIPPED = "shipped"


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.part not in PARTS:
        raise ConfigError(f"--part must be one of {', '.join(PARTS)}, got {args.part!r}")
    settings = schema.settings(compose_config(args.overrides))
    from experiments import scoring  # here, the arguments and config checked: MLflow, TensorFlow
    from experiments.tracking import connect, run_url
    from handrec.inference import Predictor

    experiment_id = connect(settings.tracking)
    local = shipped.EMNIST36 if args.model == SHIPPED else Path(args.model)
    model = scoring.model_under_test(args.model, local, experiment_id)
    predictor = Predictor.load(model.path)
    if args.lines is not None:
        summary, run_id = scoring.evaluate_lines(predictor, model, args.lines, experiment_id)
    else:
        data, name = scoring.evaluation_data(settings, predictor, args.part)
        summary, run_id = scoring.evaluate_images(
            predictor, model, data, name, settings, experiment_id
        )
    print(
        f"{summary}\nrecorded in run {run_id}, linked to model {model.name} ({model.model_id}): "
        f"{run_url(settings.tracking.uri, experiment_id, run_id)}\n"
        "all evaluations: python -m experiments.compare --evaluations"
    )
    return 0


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = cli.parser("experiments.evaluate", __doc__)
    parser.add_argument("overrides", nargs="*", help="config overrides: data=…, tracking.uri=…")
    parser.add_argument("--model", default=SHIPPED, help="model reference (default: shipped)")
    parser.add_argument("--part", default="all", help=f"{' | '.join(PARTS)} (default: all)")
    parser.add_argument("--lines", type=Path, help="a folder of line images with labels.tsv")
    return parser.parse_intermixed_args(argv)


if __name__ == "__main__":
    cli.cli(main, schema.CONFIG_ERRORS)
