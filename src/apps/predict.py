"""Recognise the characters in image files from the command line.

    python -m apps.predict [--model MODEL] [--charset SET] [--line [--pattern RE]
        [--words FILE] [--no-context]] [--json] IMAGE [IMAGE ...]

MODEL is a .keras file, a directory holding model.keras and classes.txt, or an MLflow URI
(runs:/<run_id>/model, models:/<name>@<alias>, resolved through experiments.models, imported only
then); without it, the model that ships with handrec (handrec.shipped) reads. --charset limits the
classes read (letters, digits, or the characters themselves). A line is read in context
(handrec.decode): `text` is the decoded reading and, in JSON, `free_text` each character read on
its own. One line per image, in the order given; a file that cannot be read gets a line saying why,
the others are still read, and the exit status is 1.
Exit status 2 means the model itself could not be loaded.
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from experiments import cli
from experiments.cli import EXIT_OK, EXIT_SOME_FAILED
from handrec.decode import FREE, SWITCH_COST, Context, LineReading, Prediction, read_words
from handrec.errors import ConfigError, HandrecError, first_line
from handrec.model_files import checked_model_file
from handrec.preprocess import MAX_PIXELS, decode_image
from handrec.shipped import EMNIST36

if TYPE_CHECKING:
    from handrec.inference import Predictor

Resolver = Callable[[str], Path]
URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+:")


class ModelRefError(HandrecError):
    """A model reference that names neither a local file nor a resolvable URI."""


def resolve_with_mlflow(ref: str) -> Path:
    """A model URI → its local folder. MLflow and Hydra are imported here, only for a URI, so
    reading with a local model starts without them."""
    from experiments.models import resolve_model

    return resolve_model(ref)


def main(argv: Sequence[str] | None = None, resolve_model: Resolver = resolve_with_mlflow) -> int:
    """Run the CLI; `resolve_model` turns a URI into a local model path. A model that cannot be
    loaded raises HandrecError (exit 2 through experiments.cli)."""
    parser = _parser()
    args = parser.parse_args(argv)
    if (args.pattern or args.words or args.no_context) and not args.line:
        parser.error("--pattern, --words and --no-context read lines: add --line")
    if args.no_context and (args.pattern or args.words):
        parser.error("--no-context reads each character on its own: drop --pattern and --words")
    context = _context(args)
    model = checked_model_file(_model_path(args.model, resolve_model))
    from handrec.inference import Predictor  # here: --help and a wrong --model need no TensorFlow

    predictor = Predictor.load(
        model,
        classes=args.classes,
        top_k=args.top_k,
        charset=args.charset,
    )
    failed = False
    for name in args.images:
        record = _record(predictor, Path(name), args, context)
        print(json.dumps(record) if args.json else _text(record), flush=True)
        failed = failed or "error" in record
    return EXIT_SOME_FAILED if failed else EXIT_OK


def _parser() -> argparse.ArgumentParser:
    parser = cli.parser("apps.predict", __doc__)
    parser.add_argument("images", nargs="+", metavar="IMAGE", help="image files to read")
    parser.add_argument(
        "--model",
        default=str(EMNIST36),
        help="a .keras file, its directory, or an MLflow model URI (default: the model that "
        "ships with handrec, trained on EMNIST digits and uppercase letters)",
    )
    parser.add_argument(
        "--line", action="store_true", help="each image is a line of characters, not one"
    )
    parser.add_argument(
        "--charset",
        default="all",
        help="what is written: all (default), letters, digits, or the allowed characters "
        "themselves (e.g. 0123456789X)",
    )
    parser.add_argument(
        "--pattern",
        help="a regular expression each line's characters (spaces left out) must match, "
        "e.g. '[0-9]{10}'",
    )
    parser.add_argument(
        "--words",
        type=Path,
        metavar="FILE",
        help="a word list (words separated by spaces or lines): a line's word becomes the most "
        "likely listed word when that explains the image nearly as well as the free reading",
    )
    parser.add_argument(
        "--switch-cost",
        type=float,
        default=SWITCH_COST,
        help=f"nats charged per letter/digit change inside a word (default {SWITCH_COST})",
    )
    parser.add_argument(
        "--no-context",
        action="store_true",
        help="read each character of a line on its own (text is then the free reading)",
    )
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    parser.add_argument("--top-k", type=int, default=3, help="alternatives to show (default 3)")
    parser.add_argument(
        "--classes", help="class names, one character each, for a model without classes.txt"
    )
    parser.add_argument(
        "--max-pixels",
        type=positive_int,
        default=MAX_PIXELS,
        help=f"refuse larger images, checked before decoding (default {MAX_PIXELS:,})",
    )
    return parser


def positive_int(text: str) -> int:
    """argparse's type for a count that must be at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def _model_path(ref: str, resolve_model: Resolver) -> Path:
    """A local path as it is; a URI through the resolver, as a one-line error if it fails."""
    if Path(ref).exists() or not URI.match(ref):
        return Path(ref)
    try:
        return resolve_model(ref)
    except HandrecError:
        raise
    except Exception as error:  # MLflow's errors are many types; the user needs one line.
        raise ModelRefError(f"cannot resolve {ref}: {first_line(error)}") from None


def _context(args: argparse.Namespace) -> Context:
    """The line context the flags ask for; a one-line error for a bad pattern or word list."""
    if args.no_context:
        return FREE
    words: tuple[str, ...] = ()
    if args.words is not None:
        try:
            words = read_words(args.words.read_text().splitlines())
        except (OSError, UnicodeDecodeError) as error:
            raise ConfigError(f"cannot read the word list {args.words}: {error}") from None
        if not words:
            raise ConfigError(f"the word list {args.words} is empty: give one word per line")
    return Context(switch_cost=args.switch_cost, pattern=args.pattern, words=words)


def _record(
    predictor: Predictor, path: Path, args: argparse.Namespace, context: Context
) -> dict[str, Any]:
    """What one file yields: a prediction, a line reading, or the one-line reason it failed."""
    try:
        image = decode_image(path.read_bytes(), args.max_pixels)
        if args.line:
            return {"file": str(path), **_line_fields(predictor.read_line(image, context=context))}
        return {"file": str(path), **_fields(predictor.predict(image))}
    except HandrecError as error:
        return {"file": str(path), "error": str(error)}
    except OSError as error:
        return {"file": str(path), "error": f"cannot read file: {error.strerror or error}"}


def _line_fields(reading: LineReading) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "text": reading.text,
        "free_text": reading.free_text,
        "characters": [{**_fields(c), "free_label": c.free_label} for c in reading.characters],
    }
    if reading.pattern_matched is not None:
        fields["pattern_matched"] = reading.pattern_matched
    return fields


def _fields(prediction: Prediction) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "label": prediction.label,
        "confidence": round(prediction.confidence, 4),
        "top_k": [[label, round(p, 4)] for label, p in prediction.top_k],
    }
    if prediction.box is not None:
        box = prediction.box
        fields["box"] = [box.x, box.y, box.width, box.height]
    return fields


def _text(record: dict[str, Any]) -> str:
    """Tab-separated: file, then the answer (or `error: why`), then the alternatives."""
    if "error" in record:
        return f"{record['file']}\terror: {record['error']}"
    if "text" in record:
        scores = " ".join(f"{c['label']}:{c['confidence']:.3f}" for c in record["characters"])
        return f"{record['file']}\t{json.dumps(record['text'])}\t{scores}"
    top_k = " ".join(f"{label}:{p:.3f}" for label, p in record["top_k"])
    return f"{record['file']}\t{record['label']}\t{record['confidence']:.3f}\t{top_k}"


if __name__ == "__main__":
    cli.cli(main)
