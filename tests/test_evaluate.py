"""`python -m experiments.evaluate`: a model scored on a data set (or a folder of lines) in an
evaluation run linked to the model, and `compare --evaluations` tabling them."""

from __future__ import annotations

import json

import cv2
import mlflow
import numpy as np
import pytest
from mlflow import MlflowClient

from experiments.compare import main as compare
from experiments.evaluate import main
from handrec.errors import HandrecError
from handrec.evaluation import character_error_rate
from tests.conftest import run_module

SAMPLE = ["data.sources.sample.digits_per_class=6", "data.sources.sample.letters_per_class=6"]


def store_args(root) -> list[str]:
    return [
        f"tracking.uri=sqlite:///{root}/mlflow.db",
        f"tracking.artifact_root={root}/artifacts",
        "tracking.experiment=ev",
    ]


def draw_lines(folder, texts: dict[str, str]) -> None:
    """Dark capitals on light paper, one image a line, and their labels.tsv."""
    (folder / "images").mkdir(parents=True)
    for name, text in texts.items():
        image = np.full((110, 60 + 70 * len(text)), 235, np.uint8)
        cv2.putText(image, text, (20, 80), cv2.FONT_HERSHEY_SIMPLEX, 2.0, 15, 4, cv2.LINE_AA)
        cv2.imwrite(str(folder / "images" / name), image)
    (folder / "labels.tsv").write_text("".join(f"{n}\t{t}\n" for n, t in texts.items()))


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory):
    """The shipped model on the whole tiny sample, on its test part, and on two lines."""
    root = tmp_path_factory.mktemp("evaluate")
    draw_lines(root / "lines", {"a.png": "HELLO 42", "b.png": "AB7"})
    main([*SAMPLE, *store_args(root)])
    main(
        [
            *SAMPLE,
            "data.split.val=0.25",
            "data.split.test=0.25",
            "--part",
            "test",
            *store_args(root),
        ]
    )
    main([*store_args(root), "--lines", str(root / "lines")])
    client = MlflowClient(f"sqlite:///{root}/mlflow.db")
    mlflow.set_tracking_uri(f"sqlite:///{root}/mlflow.db")
    experiment_id = client.get_experiment_by_name("ev").experiment_id
    runs = {r.data.tags["handrec.dataset"]: r for r in client.search_runs([experiment_id])}
    return root, client, experiment_id, runs


def test_each_evaluation_is_a_finished_run_named_for_model_and_data(evaluated):
    _, _, _, runs = evaluated
    assert set(runs) == {"sample", "sample:test", "lines:lines"}
    assert runs["sample"].info.run_name == "evaluate emnist36 on sample"
    assert {r.info.status for r in runs.values()} == {"FINISHED"}


def test_an_evaluation_records_accuracy_kind_accuracy_and_lookalike_share(evaluated):
    _, _, _, runs = evaluated
    metrics = runs["sample"].data.metrics
    assert 0 < metrics["accuracy"] <= metrics["kind_known_accuracy"] <= 1
    assert 0 <= metrics["lookalike_error_share"] <= 1
    assert 0 < metrics["macro_f1"] <= 1
    assert runs["sample"].data.params["n_images"] == str(36 * 6)
    assert 0 < int(runs["sample:test"].data.params["n_images"]) < 36 * 6


def test_an_evaluation_stores_tables_and_figures(evaluated):
    _, client, _, runs = evaluated
    names = {a.path for a in client.list_artifacts(runs["sample"].info.run_id)}
    assert {
        "per_class.json",
        "confusions.json",
        "confusion_matrix.png",
        "misclassified.png",
    } <= names


def test_the_scores_are_linked_to_the_model_once_per_data_set(evaluated):
    _, client, experiment_id, runs = evaluated
    (model,) = client.search_logged_models([experiment_id])
    assert model.name == "emnist36"
    linked = {(m.dataset_name, m.key): m.value for m in model.metrics}
    for dataset in ("sample", "sample:test"):
        assert linked[(dataset, "accuracy")] == runs[dataset].data.metrics["accuracy"]
    assert linked[("lines:lines", "cer")] == runs["lines:lines"].data.metrics["cer"]


def test_the_run_lists_its_data_set_as_an_evaluation_input(evaluated):
    _, _, _, runs = evaluated
    (dataset_input,) = runs["sample"].inputs.dataset_inputs
    assert dataset_input.dataset.name == "sample"
    assert json.loads(dataset_input.dataset.profile)["num_rows"] == 36 * 6
    assert {t.key: t.value for t in dataset_input.tags}["mlflow.data.context"] == "evaluation"


def test_lines_record_the_character_error_rate_of_what_was_read(evaluated):
    _, _, _, runs = evaluated
    run = runs["lines:lines"]
    table = mlflow.artifacts.load_dict(f"{run.info.artifact_uri}/readings.json")
    truths, readings, free = zip(*[row[1:] for row in table["data"]], strict=True)
    assert truths == ("HELLO 42", "AB7")
    assert run.data.metrics["cer"] == pytest.approx(character_error_rate(truths, readings))
    assert run.data.metrics["cer_free"] == pytest.approx(character_error_rate(truths, free))
    exact = np.mean([t == r for t, r in zip(truths, readings, strict=True)])
    assert run.data.metrics["exact_match"] == pytest.approx(exact)


def test_compare_evaluations_tables_models_by_data_sets_and_writes_csv(evaluated, capsys):
    root, _, _, runs = evaluated
    csv = root / "table.csv"
    compare([*store_args(root)[:1], "--experiment", "ev", "--evaluations", "--csv", str(csv)])
    output = capsys.readouterr().out
    assert "sample:test" in output and "lines:lines CER" in output
    written = csv.read_text().splitlines()
    assert written[0] == "model,model_id,lines:lines CER,sample,sample:test"
    assert written[1].startswith("emnist36,m-")


def test_compare_evaluations_best_ranks_by_one_data_set(evaluated, capsys):
    root, _, _, runs = evaluated
    args = ["--experiment", "ev", "--evaluations", "--csv", str(root / "t.csv")]
    compare([*store_args(root)[:1], *args, "--sort", "sample:test", "--best"])
    accuracy = runs["sample:test"].data.metrics["accuracy"]
    assert f"best on sample:test: emnist36 ({accuracy:.4f})" in capsys.readouterr().out


def test_evaluating_the_same_model_file_again_reuses_its_logged_model(evaluated):
    _, client, experiment_id, _ = evaluated
    assert len(client.search_logged_models([experiment_id])) == 1


def test_a_missing_model_file_is_a_one_line_error(tmp_path):
    with pytest.raises(HandrecError, match="--model nope.keras: no such model file"):
        main(["--model", "nope.keras", *store_args(tmp_path)])


def test_a_bad_part_exits_2_in_one_line(tmp_path):
    done = run_module("experiments.evaluate", tmp_path, "--part", "dev", *store_args(tmp_path))
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1] == (
        "error: --part must be one of all, train, val, test, got 'dev'"
    )
