"""Reading whole lines: handrec against Tesseract 5 on real scanned names and synthetic photos.

    .venv/bin/python benchmarks/read_lines.py [--names DIR] [--emnist DIR] [--synthetic N]
        [--model MODEL] [--switch-costs 0,1,2,4,8] [--no-tesseract] [--save DIR] [--failures DIR]

Two development sets:

- `names`: ../shared/data/lines/names/ — 285 real scanned names in block capitals (its README);
- `synthetic`: N lines (default 200, seed 0) built from EMNIST characters of the test part of the
  split the shipped model was trained beside (digits + uppercase, stratified 80/10/10, seed 0), so
  no character was seen in training: names, phone numbers, dates and postcodes, letter spacing
  from tight to very wide, rendered as phone photos with the looks cross_source.py has (plain,
  shadow, thin pen, ruled paper) plus the page's edge with the table in view.

Each line is segmented and its characters scored once; every reading then decodes the same
probabilities: `free` (each character on its own), `context` (the default `handrec.decode.Context`,
one row per --switch-costs value when several are given), and `kind known` (the character set
letters for names, digits for numbers, as a person who says what a field holds gets). Tesseract 5
(`--psm 7`, whitelist 0–9 A–Z) reads the same image files; it is installed with apt-get when
missing and skipped with a message where it cannot be had.

Scores (the names README's): CER = Levenshtein distance with spaces removed / label characters;
exact = text equal to the label with runs of spaces collapsed; kind = share of label words whose
aligned reading has the same kind (letters, digits, mixed); s/line = segmentation + model +
decoding per line, after a warm-up. Last, one 12-megapixel photo (4000×3000) of a line is timed,
in wall and CPU seconds and against a fixed reference operation timed in turn with each reading.
Targets: CER ≤ 0.05 and ≤ 1/3 of Tesseract's, exact ≥ 85%, the 12 MP photo in ≤ 0.3 s.
`--failures DIR` keeps a picture of each line the context reading got wrong (its glyph boxes over
the line, the 28×28 glyphs below) and counts them by kind: segmentation (not one glyph per
letter), spaces (right letters, wrong spaces), classification (a glyph per letter, misread).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from cross_source import RULE_SPACING, _shade, _thinned
from time_to_accuracy import load_data

from handrec.data.split import SplitSpec, split
from handrec.decode import FREE, Context, LineReading, charset_mask, decode_line, restrict
from handrec.evaluation import character_error_rate
from handrec.inference import Predictor
from handrec.labels import DIGITS, UPPERCASE
from handrec.preprocess import NoInkError, decode_image
from handrec.segment import Glyph, segment_line
from handrec.shipped import EMNIST36

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
WHITELIST = DIGITS + UPPERCASE
NAMES = """
ANNE MARIE LUCAS HUGO CHLOE EMMA LOUIS JULIEN THOMAS NICOLAS CAMILLE SARAH
PIERRE ANTOINE MATHIS NOAH ZOE ELISE OSCAR VICTOR SOPHIE BASTIEN QUENTIN YANN
WILLIAM XAVIER GABRIEL JADE LEON ROSE BERNARD DUBOIS MOREAU LAURENT SIMON MICHEL
LEFEBVRE LEROY ROUX DAVID BERTRAND MOREL FOURNIER GIRARD BONNET DUPONT LAMBERT FONTAINE
ROUSSEAU VINCENT MULLER FAURE ANDRE MERCIER BLANC GUERIN BOYER GARNIER CHEVALIER FRANCOIS
LEGRAND GAUTHIER PERRIN ROBIN CLEMENT MORIN NICOLAS HENRY ROUSSEL MATHIEU GARCIA ZIDANE
KLEIN WAGNER OZIL
""".split()  # noqa: SIM905
"""Common French first names and surnames (none taken from the names set)."""
SPACINGS = (0.08, 0.25, 0.45, 0.8)
"""Letter gaps as a share of the character height: tight, normal, wide, very wide."""
LOOKS = ("plain", "shadow", "thin pen", "ruled", "page edge")
REFERENCE = np.random.default_rng(0).random(1_000_000)


@dataclass(frozen=True)
class Line:
    """One development line: its file (for Tesseract), its pixels, its label and its kind."""

    path: Path
    image: np.ndarray
    label: str
    kind: str
    look: str


@dataclass(frozen=True)
class Scores:
    cer: float
    exact: float
    kind: float
    seconds: float


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--names", type=Path, default=DATA / "lines" / "names")
    parser.add_argument("--emnist", type=Path, default=DATA / "emnist")
    parser.add_argument("--synthetic", type=int, default=200, help="synthetic lines (0: none)")
    parser.add_argument("--model", type=Path, default=EMNIST36)
    parser.add_argument("--switch-costs", default="", help="comma-separated, to tune the prior")
    parser.add_argument("--no-tesseract", action="store_true")
    parser.add_argument("--by-look", action="store_true", help="also score each look apart")
    parser.add_argument("--no-names", action="store_true", help="the synthetic set only")
    parser.add_argument("--no-12mp", action="store_true", help="skip timing the 12 MP photo")
    parser.add_argument("--save", type=Path, help="keep the synthetic photos in this folder")
    parser.add_argument(
        "--failures", type=Path, help="a picture of each line the context reading got wrong"
    )
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    predictor = Predictor.load(args.model)
    costs = [float(c) for c in args.switch_costs.split(",") if c]
    tesseract = None if args.no_tesseract else find_tesseract()
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores", flush=True)
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.save or Path(scratch)
        sets = {} if args.no_names else {"names": names(args.names)}
        if args.synthetic:
            sets["synthetic"] = synthetic(args.emnist, args.synthetic, args.seed, folder)
        rows = []
        for set_name, lines in sets.items():
            rows += score_set(
                set_name, lines, predictor, costs, tesseract, args.by_look, args.failures
            )
    print_table(rows)
    if not args.no_12mp:
        timing, text = twelve_megapixels(predictor, args.emnist, args.seed)
        print(
            f"\n12-megapixel photo of 'CAMILLE 42' read as {text!r} in {timing.wall:.3f} s "
            f"({timing.cpu:.3f} s of CPU; target ≤ 0.3 s), {timing.ratio:.1f}× the reference "
            f"operation ({timing.reference * 1e3:.1f} ms, sorting 10^6 floats, timed in turn); "
            f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores"
        )


def find_tesseract() -> str | None:
    """The tesseract binary, installed with apt-get where it is missing and that is allowed."""
    found = shutil.which("tesseract")
    if found is None and shutil.which("apt-get") and os.geteuid() == 0:
        print("installing tesseract-ocr with apt-get …", flush=True)
        subprocess.run(["apt-get", "install", "-y", "-q", "tesseract-ocr"], capture_output=True)
        found = shutil.which("tesseract")
    if found is None:
        print("Tesseract is not installed (apt-get install tesseract-ocr): skipping it")
    return found


def names(folder: Path) -> list[Line]:
    rows = [line.split("\t") for line in (folder / "labels.tsv").read_text().splitlines()]
    return [
        Line(path, decode_image(path.read_bytes()), label, "letters", "scan")
        for path, label in ((folder / "images" / file, label) for file, label in rows)
    ]


def score_set(
    set_name: str,
    lines: list[Line],
    predictor: Predictor,
    costs: list[float],
    tesseract: str | None,
    by_look: bool = False,
    failures: Path | None = None,
) -> list[tuple[str, str, Scores]]:
    """Every reader's scores on one set: (set, reader, scores) rows; with `failures`, a
    picture of each line the context reading got wrong there, and how many of each kind."""
    classes = predictor.labels.classes
    read_lines(lines[:3], predictor)  # warm-up: graph tracing
    segmented, seconds = read_lines(lines, predictor)
    readers: dict[str, Callable[[np.ndarray, list[Glyph], Line], LineReading]] = {
        "handrec free": lambda p, g, _: decode_line(p, classes, g, FREE),
        "handrec context": lambda p, g, _: decode_line(p, classes, g, Context()),
        "handrec kind known": lambda p, g, line: decode_line(
            restrict(p, charset_mask(classes, line.kind)), classes, g, FREE
        ),
    }
    for cost in costs:
        readers[f"context switch_cost={cost:g}"] = lambda p, g, _, c=cost: decode_line(
            p, classes, g, Context(switch_cost=c)
        )
    texts, seconds_per_line = {}, {}
    for reader, decode in readers.items():
        texts[reader] = [
            "" if glyphs is None else decode(probabilities, glyphs, line).text
            for line, (probabilities, glyphs) in zip(lines, segmented, strict=True)
        ]
        seconds_per_line[reader] = seconds
    if failures:
        counts = save_failures(set_name, lines, segmented, texts["handrec context"], failures)
        kinds = ", ".join(f"{kind} {count}" for kind, count in counts.items())
        print(f"{set_name}: {sum(counts.values())} inexact in context: {kinds} ({failures})")
    if tesseract:
        started = time.perf_counter()
        texts["tesseract 5"] = run_tesseract(tesseract, [line.path for line in lines])
        seconds_per_line["tesseract 5"] = (time.perf_counter() - started) / len(lines)
    rows = [
        (set_name, reader, scores(lines, read, seconds_per_line[reader]))
        for reader, read in texts.items()
    ]
    if by_look:
        for look in dict.fromkeys(line.look for line in lines):
            keep = [i for i, line in enumerate(lines) if line.look == look]
            rows += [
                (
                    f"{set_name}/{look}",
                    reader,
                    scores([lines[i] for i in keep], [read[i] for i in keep], 0.0),
                )
                for reader, read in texts.items()
                if reader in ("handrec context", "handrec kind known", "tesseract 5")
            ]
    return rows


def read_lines(
    lines: Sequence[Line], predictor: Predictor
) -> tuple[list[tuple[np.ndarray, list[Glyph] | None]], float]:
    """Each line's glyphs and their probabilities (None where no ink was found), and the mean
    seconds per line of segmentation, model and a default decoding."""
    out: list[tuple[np.ndarray, list[Glyph] | None]] = []
    started = time.perf_counter()
    for line in lines:
        try:
            glyphs = segment_line(line.image, score=predictor.confidence)
        except NoInkError:
            out.append((np.zeros((0, len(predictor.labels))), None))
            continue
        probabilities = predictor.probabilities(np.stack([g.image for g in glyphs]))
        decode_line(probabilities, predictor.labels.classes, glyphs, Context())
        out.append((probabilities, glyphs))
    return out, (time.perf_counter() - started) / max(len(lines), 1)


def failure_kind(label: str, text: str, glyphs: list[Glyph] | None) -> str:
    """Why a line was misread: segmentation (not one glyph per letter), spaces (the right letters
    but not the right spaces) or classification (a glyph per letter, some read wrong)."""
    if glyphs is None or len(glyphs) != len(_letters(label)):
        return "segmentation"
    return "spaces" if _letters(text) == _letters(label) else "classification"


def save_failures(
    set_name: str,
    lines: Sequence[Line],
    segmented: Sequence[tuple[np.ndarray, list[Glyph] | None]],
    texts: Sequence[str],
    folder: Path,
) -> dict[str, int]:
    """Each inexact line as `overlay` in `folder`, named by set, index, kind, label and reading;
    how many lines of each kind."""
    folder.mkdir(parents=True, exist_ok=True)
    counts = dict.fromkeys(("segmentation", "spaces", "classification"), 0)
    for index, (line, (_, glyphs), text) in enumerate(zip(lines, segmented, texts, strict=True)):
        if " ".join(text.split()) == line.label:
            continue
        kind = failure_kind(line.label, text, glyphs)
        counts[kind] += 1
        name = f"{set_name}_{index:04d}_{kind}_{line.label}__{text}".replace(" ", "_")
        cv2.imwrite(str(folder / f"{name}.png"), overlay(line.image, glyphs or []))
    return counts


def overlay(image: np.ndarray, glyphs: Sequence[Glyph]) -> np.ndarray:
    """The line with its glyphs' boxes (red; blue where a space comes before), at least 600 px
    wide, above the 28×28 images the model read, twice their size."""
    picture = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    pen = max(1, image.shape[1] // 600)
    for glyph in glyphs:
        box, colour = glyph.box, (255, 0, 0) if glyph.space_before else (0, 0, 255)
        cv2.rectangle(picture, (box.x, box.y), (box.right - 1, box.bottom - 1), colour, pen)
    zoom = max(1, 600 // picture.shape[1])
    picture = cv2.resize(picture, None, fx=zoom, fy=zoom, interpolation=cv2.INTER_NEAREST)
    if not glyphs:
        return picture
    strip = np.hstack([np.pad(glyph.image, 1, constant_values=128) for glyph in glyphs])
    strip = cv2.resize(strip, None, fx=2, fy=2, interpolation=cv2.INTER_NEAREST)
    width = max(picture.shape[1], strip.shape[1])
    rows = [picture, cv2.cvtColor(strip, cv2.COLOR_GRAY2BGR)]
    return np.vstack(
        [
            np.pad(row, ((0, 4), (0, width - row.shape[1]), (0, 0)), constant_values=128)
            for row in rows
        ]
    )


def run_tesseract(binary: str, paths: list[Path]) -> list[str]:
    """Tesseract's reading of each image, one line, capitals and digits only; two at a time."""

    def one(path: Path) -> str:
        command = [binary, str(path), "stdout", "--psm", "7"]
        command += ["-c", f"tessedit_char_whitelist={WHITELIST}"]
        env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
        done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=60)
        return " ".join(done.stdout.split())

    with ThreadPoolExecutor(2) as pool:
        return list(pool.map(one, paths))


def scores(lines: Sequence[Line], texts: Sequence[str], seconds: float) -> Scores:
    exact = np.mean(
        [" ".join(t.split()) == line.label for line, t in zip(lines, texts, strict=True)]
    )
    kinds = [k for line, t in zip(lines, texts, strict=True) for k in word_kinds(line.label, t)]
    cer = character_error_rate([line.label for line in lines], texts)
    return Scores(cer, float(exact), float(np.mean(kinds)), seconds)


def _letters(text: str) -> str:
    return "".join(text.split())


def _distances(a: str, b: str) -> np.ndarray:
    table = np.zeros((len(a) + 1, len(b) + 1), np.int64)
    table[:, 0], table[0, :] = np.arange(len(a) + 1), np.arange(len(b) + 1)
    for i, x in enumerate(a, 1):
        for j, y in enumerate(b, 1):
            table[i, j] = min(
                table[i - 1, j] + 1, table[i, j - 1] + 1, table[i - 1, j - 1] + (x != y)
            )
    return table


def word_kinds(label: str, text: str) -> list[bool]:
    """For each word of the label, whether the reading's characters aligned with it (spaces left
    out, by edit distance) are of the same kind: letters, digits or mixed."""
    truth, read = _letters(label), _letters(text)
    table, aligned = _distances(truth, read), [""] * len(truth)
    i, j = len(truth), len(read)
    while i > 0 and j > 0:
        if table[i, j] == table[i - 1, j - 1] + (truth[i - 1] != read[j - 1]):
            aligned[i - 1], i, j = read[j - 1], i - 1, j - 1
        elif table[i, j] == table[i - 1, j] + 1:
            i -= 1
        else:
            j -= 1
    out, start = [], 0
    for word in label.split():
        out.append(_kind("".join(aligned[start : start + len(word)])) == _kind(word))
        start += len(word)
    return out


def _kind(word: str) -> str:
    if word and all(c in DIGITS for c in word):
        return "digits"
    if word and all(c.isalpha() for c in word):
        return "letters"
    return "mixed"


def synthetic(emnist: Path, count: int, seed: int, folder: Path) -> list[Line]:
    """`count` photographed lines of held-out EMNIST characters, saved as PNG in `folder`."""
    glyphs = held_out_characters(emnist)
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    lines = []
    for index in range(count):
        label, kind = line_text(rng)
        look = LOOKS[index % len(LOOKS)]
        image = photograph(label, glyphs, rng, look, height=int(rng.integers(36, 110)))
        path = folder / f"line_{index:04d}.png"
        cv2.imwrite(str(path), image)
        lines.append(Line(path, image, label, kind, look))
    return lines


def held_out_characters(emnist: Path) -> dict[str, list[np.ndarray]]:
    """EMNIST's digits and capitals from the test part of the shipped model's split, by class,
    each cropped to its ink."""
    _, data = load_data(emnist, 0, 0, reframe=False)
    test = split(data, SplitSpec(val=0.1, test=0.1, seed=0)).test
    by_class: dict[str, list[np.ndarray]] = {name: [] for name in test.labels.classes}
    for image, label in zip(test.x, test.y, strict=True):
        rows, cols = np.flatnonzero(image.max(1) > 40), np.flatnonzero(image.max(0) > 40)
        if rows.size and cols.size:
            crop = image[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
            by_class[test.labels.classes[label]].append(crop)
    return by_class


def line_text(rng: np.random.Generator) -> tuple[str, str]:
    """A label and its kind: one or two names, or a phone number, date or postcode."""
    digits = lambda n: "".join(str(d) for d in rng.integers(0, 10, n))  # noqa: E731
    choice = rng.integers(0, 6)
    if choice < 3:
        return " ".join(rng.choice(NAMES, size=1 + (choice == 2))), "letters"
    if choice == 3:
        return (
            digits(10) if rng.random() < 0.4 else " ".join(digits(2) for _ in range(5))
        ), "digits"
    if choice == 4:
        return (
            f"{rng.integers(1, 29):02d} {rng.integers(1, 13):02d} {rng.integers(1940, 2025)}",
            "digits",
        )
    return digits(5), "digits"


def photograph(
    label: str,
    glyphs: dict[str, list[np.ndarray]],
    rng: np.random.Generator,
    look: str,
    height: int,
) -> np.ndarray:
    """The label written with held-out characters `height` px high, as a phone photo with the
    given look; letter gaps are one of SPACINGS, word gaps a character height wider."""
    gap = height * rng.choice(SPACINGS) * rng.uniform(0.8, 1.2)
    word_gap = gap + height * rng.uniform(0.9, 1.4)
    pieces, x = [], 0.0
    for char in label:
        if char == " ":
            x += word_gap - gap
            continue
        crop = glyphs[char][int(rng.integers(len(glyphs[char])))]
        h = height * rng.uniform(0.9, 1.05)
        w = max(2, round(crop.shape[1] * h / crop.shape[0]))
        piece = cv2.resize(crop, (w, round(h)), interpolation=cv2.INTER_CUBIC)
        pieces.append((piece, round(x), round(rng.uniform(-0.05, 0.05) * height)))
        x += w + gap
    margin = lambda: round(height * rng.uniform(0.5, 2.0))  # noqa: E731
    left, top = margin(), margin()
    width = left + round(x - gap) + margin()
    canvas = np.zeros((top + round(height * 1.2) + margin(), width), np.float32)
    for piece, px, py in pieces:
        y = top + py
        region = canvas[y : y + piece.shape[0], left + px : left + px + piece.shape[1]]
        np.maximum(region, piece[: region.shape[0], : region.shape[1]], out=region)
    if look == "thin pen":
        canvas = _thinned(canvas.astype(np.uint8)).astype(np.float32)
    paper, ink = rng.uniform(190, 250), rng.uniform(10, 90)
    if look == "ruled":
        spacing = max(RULE_SPACING, round(height * 1.3))
        first = (top + height + round(height * 0.08)) % spacing
        canvas[first::spacing] = np.maximum(canvas[first::spacing], rng.uniform(60, 110))
    photo = paper - canvas / 255.0 * (paper - ink) + rng.normal(0, 4, canvas.shape)
    if look == "shadow":
        photo *= _shade(photo.shape, rng)
    if look == "page edge":
        photo = _with_page_edge(photo, rng)
    return np.clip(photo, 0, 255).astype(np.uint8)


def _with_page_edge(photo: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The photo grown on one side by more paper and, beyond a slightly tilted page edge, a
    darker table."""
    depth = round(rng.uniform(0.3, 0.6) * min(photo.shape))
    side = int(rng.integers(4))
    turned = np.rot90(photo, side)
    paper = np.median(turned) + rng.normal(0, 4, (depth, turned.shape[1]))
    grown = np.vstack([paper, turned])
    rows, cols = np.indices(grown.shape)
    edge = depth * (0.5 + rng.uniform(-0.3, 0.3) * (cols / grown.shape[1] - 0.5))
    table = rng.uniform(40, 120) + rng.normal(0, 6, grown.shape)
    return np.rot90(np.where(rows < edge, table, grown), -side)


@dataclass(frozen=True)
class Timing:
    """Medians over repeated readings of one photo, each followed by the reference operation."""

    wall: float
    cpu: float
    reference: float
    ratio: float
    """Median of each reading's wall time over the reference's right after it: the load on a
    shared machine slows both alike, so this says more than either alone."""


def reference_operation(numbers: np.ndarray = REFERENCE) -> None:
    """A fixed amount of single-threaded work to time readings against: sorting 10^6 floats."""
    np.sort(numbers)


def twelve_megapixels(
    predictor: Predictor, emnist: Path, seed: int, repeats: int = 9
) -> tuple[Timing, str]:
    """How long readings of one 4000×3000 photo of "CAMILLE 42" on a sheet in uneven light take
    (wall, CPU, and against the reference operation timed in turn with them), and what was
    read."""
    glyphs, rng = held_out_characters(emnist), np.random.default_rng(seed)
    line = photograph("CAMILLE 42", glyphs, rng, "plain", height=160)[:, :3800]
    sheet = rng.normal(float(np.median(line)), 4, (3000, 4000))
    top, left = (3000 - line.shape[0]) // 2, (4000 - line.shape[1]) // 2
    sheet[top : top + line.shape[0], left : left + line.shape[1]] = line
    photo = np.clip(sheet * _shade(sheet.shape, rng), 0, 255).astype(np.uint8)
    text = predictor.read_line(photo).text
    wall, cpu, reference = [], [], []
    for _ in range(repeats):
        started, used = time.perf_counter(), time.process_time()
        predictor.read_line(photo)
        wall.append(time.perf_counter() - started)
        cpu.append(time.process_time() - used)
        started = time.perf_counter()
        reference_operation()
        reference.append(time.perf_counter() - started)
    ratio = np.median(np.array(wall) / np.array(reference))
    timing = Timing(*(float(np.median(v)) for v in (wall, cpu, reference)), float(ratio))
    return timing, text


def print_table(rows: list[tuple[str, str, Scores]]) -> None:
    print(f"\n{'set':20s} {'reader':28s} {'CER':>6s} {'exact':>6s} {'kind':>6s} {'s/line':>7s}")
    for set_name, reader, s in rows:
        print(
            f"{set_name:20s} {reader:28s} {s.cer:6.3f} {s.exact:6.1%} {s.kind:6.1%} "
            f"{s.seconds:7.3f}"
        )
    for set_name in dict.fromkeys(r[0] for r in rows):
        by_reader = {reader: s for name, reader, s in rows if name == set_name}
        if "tesseract 5" in by_reader:
            ratio = by_reader["handrec context"].cer / max(by_reader["tesseract 5"].cer, 1e-9)
            print(f"{set_name}: handrec context CER / Tesseract's = {ratio:.2f} (target ≤ 0.33)")


if __name__ == "__main__":
    sys.exit(main())
