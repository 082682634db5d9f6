"""`python -m apps.predict`: one line per file, failures reported and counted, JSON, lines."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from apps.predict import main
from experiments.cli import cli
from handrec.inference import save_model
from handrec.labels import DIGITS, UPPERCASE
from handrec.models import build_model
from handrec.models.seed_cnn import SeedCnnParams

CLASSES = DIGITS + UPPERCASE


def write_text_image(path: Path, text: str, width: int = 90) -> Path:
    image = np.full((90, width), 235, np.uint8)
    cv2.putText(image, text, (10, 70), cv2.FONT_HERSHEY_SIMPLEX, 2, 20, 5)
    cv2.imwrite(str(path), image)
    return path


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> str:
    """A small seed_cnn, untrained: the CLI's job is the plumbing, not the accuracy."""
    network = build_model(SeedCnnParams(filters=2, dense_units=4), len(CLASSES))
    directory = tmp_path_factory.mktemp("model")
    return str(save_model(network, CLASSES, directory))


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("images")
    (root / "garbage.png").write_bytes(b"not an image at all")
    cv2.imwrite(str(root / "blank.png"), np.full((40, 40), 255, np.uint8))
    return {
        "seven": str(write_text_image(root / "seven.png", "7")),
        "k": str(write_text_image(root / "k.jpg", "K")),
        "line": str(write_text_image(root / "line.png", "HI   42", width=340)),
        "garbage": str(root / "garbage.png"),
        "blank": str(root / "blank.png"),
        "missing": str(root / "missing.png"),
    }


def run(capsys, *argv: str, **resolver) -> tuple[int, list[str], str]:
    """The CLI in this process, through the convention every entrypoint shares."""
    with pytest.raises(SystemExit) as ended:
        cli(lambda: main(list(argv), **resolver))
    out, err = capsys.readouterr()
    return ended.value.code, out.splitlines(), err


def test_without_a_model_the_shipped_one_reads(capsys, files):
    code, lines, _ = run(capsys, files["seven"])
    assert code == 0
    assert lines[0].split("\t")[:2] == [files["seven"], "7"]


def test_prints_file_prediction_confidence_and_top_3_for_each_image(capsys, model, files):
    code, lines, _ = run(capsys, "--model", model, files["seven"], files["k"])
    assert code == 0
    assert [line.split("\t")[0] for line in lines] == [files["seven"], files["k"]]
    _, label, confidence, top = lines[0].split("\t")
    assert label in CLASSES
    assert 0 < float(confidence) <= 1
    assert len(top.split()) == 3


def test_a_file_that_fails_says_why_and_the_others_are_still_read(capsys, model, files):
    code, lines, _ = run(capsys, "--model", model, files["seven"], files["garbage"], files["k"])
    assert code == 1
    assert len(lines) == 3
    assert lines[1] == f"{files['garbage']}\terror: cannot decode image: not a known image format"


def test_a_missing_file_is_reported_as_unreadable(capsys, model, files):
    code, lines, _ = run(capsys, "--model", model, files["missing"])
    assert code == 1
    assert "error: cannot read file" in lines[0]


def test_a_blank_image_is_nothing_to_read_not_a_guess(capsys, model, files):
    code, lines, _ = run(capsys, "--model", model, files["blank"])
    assert code == 1
    assert "nothing to read" in lines[0]


def test_json_gives_one_object_per_file_with_the_top_k(capsys, model, files):
    _, lines, _ = run(capsys, "--json", "--top-k", "5", "--model", model, files["seven"])
    record = json.loads(lines[0])
    assert record["file"] == files["seven"]
    assert record["label"] == record["top_k"][0][0]
    assert len(record["top_k"]) == 5


def test_json_reports_a_failure_with_its_reason(capsys, model, files):
    code, lines, _ = run(capsys, "--json", "--model", model, files["garbage"])
    assert code == 1
    assert json.loads(lines[0])["error"].startswith("cannot decode image")


def test_line_mode_reads_each_character_and_the_space(capsys, model, files):
    _, lines, _ = run(capsys, "--line", "--json", "--model", model, files["line"])
    record = json.loads(lines[0])
    assert len(record["text"]) == 5
    assert record["text"][2] == " "
    assert [len(c["box"]) for c in record["characters"]] == [4, 4, 4, 4]


def test_line_mode_text_output_quotes_the_text_and_scores_each_character(capsys, model, files):
    _, lines, _ = run(capsys, "--line", "--model", model, files["line"])
    _, text, scores = lines[0].split("\t")
    assert len(json.loads(text)) == 5
    assert len(scores.split()) == 4


def test_charset_limits_the_classes_read(capsys, model, files):
    _, lines, _ = run(capsys, "--json", "--charset", "digits", "--model", model, files["k"])
    record = json.loads(lines[0])
    assert record["label"] in DIGITS
    assert all(label in DIGITS for label, _ in record["top_k"])


def test_an_unknown_charset_exits_2_with_one_line(capsys, model, files):
    code, _, err = run(capsys, "--charset", "abc", "--model", model, files["k"])
    assert code == 2
    assert "charset" in err and err.count("\n") == 1


def test_line_json_gives_the_free_reading_beside_the_decoded_text(capsys, model, files):
    _, lines, _ = run(capsys, "--line", "--json", "--model", model, files["line"])
    record = json.loads(lines[0])
    assert len(record["free_text"]) == len(record["text"])
    assert [c["free_label"] for c in record["characters"]] == [
        c["top_k"][0][0] for c in record["characters"]
    ]


def test_a_pattern_decides_the_line_and_says_it_matched(capsys, model, files):
    argv = ["--line", "--json", "--pattern", "[0-9]{4}", "--model", model, files["line"]]
    record = json.loads(run(capsys, *argv)[1][0])
    assert record["pattern_matched"] is True
    assert record["text"].replace(" ", "").isdigit()


@pytest.fixture(scope="module")
def undecided_model(tmp_path_factory) -> str:
    """A model that finds every class equally likely (its last layer all zeros): any listed
    word of the right length explains the image as well as the free reading does, whatever
    random weights an untrained model would start from."""
    network = build_model(SeedCnnParams(filters=2, dense_units=4), len(CLASSES))
    last = network.layers[-1]
    last.set_weights([np.zeros_like(w) for w in last.get_weights()])
    return str(save_model(network, CLASSES, tmp_path_factory.mktemp("undecided")))


def test_a_word_list_can_decide_a_word(capsys, undecided_model, files, tmp_path):
    words = tmp_path / "words.txt"
    words.write_text("HI\n")
    argv = ["--line", "--json", "--words", str(words), "--model", undecided_model, files["line"]]
    record = json.loads(run(capsys, *argv)[1][0])
    assert record["text"].split() == ["HI", record["text"].split()[1]]


def test_a_missing_word_list_exits_2_naming_it(capsys, model, files, tmp_path):
    argv = ["--line", "--words", str(tmp_path / "none.txt"), "--model", model, files["line"]]
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert "none.txt" in err


def test_a_bad_pattern_exits_2_with_one_line(capsys, model, files):
    code, _, err = run(capsys, "--line", "--pattern", "[0-9", "--model", model, files["line"])
    assert code == 2
    assert "not a regular expression" in err and err.count("\n") == 1


def test_a_pattern_without_line_mode_is_a_usage_error(capsys, model, files):
    with pytest.raises(SystemExit) as exit_:
        main(["--pattern", "[0-9]", "--model", model, files["k"]])
    assert exit_.value.code == 2
    assert "add --line" in capsys.readouterr().err


def test_no_context_with_a_pattern_is_a_usage_error(capsys, model, files):
    with pytest.raises(SystemExit) as exit_:
        main(["--line", "--no-context", "--pattern", "[0-9]+", "--model", model, files["line"]])
    assert exit_.value.code == 2
    assert "--no-context" in capsys.readouterr().err


def test_an_unloadable_model_exits_2_with_one_line_on_stderr(capsys, files, tmp_path):
    code, lines, err = run(capsys, "--model", str(tmp_path / "absent.keras"), files["seven"])
    assert code == 2
    assert lines == []
    assert err.startswith("error: model not found") and err.count("\n") == 1


def test_a_model_uri_is_opened_through_the_resolver(capsys, model, files):
    asked = []

    def resolver(ref: str) -> Path:
        asked.append(ref)
        return Path(model).parent

    code, _, _ = run(capsys, "--model", "runs:/abc/model", files["seven"], resolve_model=resolver)
    assert code == 0
    assert asked == ["runs:/abc/model"]


def test_a_local_path_never_reaches_the_resolver(capsys, model, files):
    def resolver(ref: str) -> Path:
        raise AssertionError(f"resolver called with {ref}")

    code, _, _ = run(capsys, "--model", model, files["seven"], resolve_model=resolver)
    assert code == 0


def test_a_model_uri_the_tracking_store_lacks_is_a_one_line_error(
    capsys, files, tmp_path, monkeypatch
):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    code, _, err = run(capsys, "--model", "models:/digits@champion", files["seven"])
    assert code == 2
    assert "models:/digits@champion" in err and err.count("\n") == 1


def test_a_resolver_failure_is_a_one_line_error(capsys, files):
    def resolver(ref: str) -> Path:
        raise RuntimeError("Run 'abc' not found\nTraceback details")

    code, _, err = run(capsys, "--model", "runs:/abc/model", files["seven"], resolve_model=resolver)
    assert code == 2
    assert err == "error: cannot resolve runs:/abc/model: Run 'abc' not found\n"


def test_runs_as_a_module_without_importing_mlflow_or_hydra(model, files):
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "apps.predict", "--model", model, files["k"]],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0
    assert result.stdout.startswith(files["k"])
    imported = {line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines()}
    assert not {name for name in imported if name.split(".")[0] in ("mlflow", "hydra")}


@pytest.mark.parametrize("value", ["-1", "0", "many"])
def test_a_pixel_limit_below_1_is_a_usage_error(capsys, files, value):
    with pytest.raises(SystemExit) as ended:
        main(["--max-pixels", value, files["seven"]])
    assert ended.value.code == 2
    assert "--max-pixels" in capsys.readouterr().err
