"""Mistakes the config alone shows stop the run before it opens: one line, no run recorded."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from mlflow import MlflowClient

from experiments.job import run
from experiments.preflight import StoreNotWritable, spans
from handrec.errors import ConfigError, DataError, HandrecError
from tests.conftest import TINY, read_only, run_module


@pytest.fixture
def attempt(compose_config, tmp_path):
    """attempt(*overrides) → the HandrecError `run` raised, having checked nothing was
    recorded: no experiment, no run, no checkpoint."""

    def _attempt(*overrides: str, base: Sequence[str] = TINY) -> HandrecError:
        store = [
            f"tracking.uri=sqlite:///{tmp_path}/mlflow.db",
            f"tracking.artifact_root={tmp_path}/artifacts",
            f"checkpoints={tmp_path}/ck",
        ]
        with pytest.raises(HandrecError) as raised:
            run(compose_config(*base, *store, *overrides))
        assert runs_in(tmp_path) == []
        assert not any((tmp_path / "ck").glob("*"))
        assert "\n" not in str(raised.value)
        return raised.value

    return _attempt


def runs_in(root: Path) -> list:
    if not (root / "mlflow.db").exists():
        return []
    client = MlflowClient(f"sqlite:///{root}/mlflow.db")
    return client.search_runs([e.experiment_id for e in client.search_experiments()])


@pytest.fixture
def read_only_folder(tmp_path) -> Iterator[Path]:
    with read_only(tmp_path / "read-only") as folder:
        yield folder


@pytest.mark.parametrize("seed", ["-1", "99999999999"])
def test_a_seed_outside_32_bits_is_refused(attempt, seed):
    error = attempt(f"seed={seed}")
    assert isinstance(error, ConfigError)
    assert str(error) == f"seed must be in 0..4294967295, got {seed}"


def test_a_single_class_is_refused(attempt):
    assert "classes=0 names 1 class: a model tells at least 2 apart" in str(attempt("classes=0"))


def test_classes_no_source_holds_are_named_with_what_the_sources_hold(attempt):
    error = attempt("classes=abc")
    assert isinstance(error, DataError)
    assert "no sample of the chosen sources has a class in 'abc'; they hold 0–9, A–Z" in str(error)


def test_some_classes_no_source_holds_are_named(attempt):
    error = attempt("classes=0123xy", "data.sources.sample.letters_per_class=0")
    assert "hold no sample of 'xy' (they hold 0–9)" in str(error)


def test_a_missing_data_file_is_reported_before_the_run_opens(attempt, tmp_path):
    missing = tmp_path / "nowhere.csv"
    error = attempt(
        "data=az_csv",
        f"data.sources.az_csv.path={missing}",
        "classes=ABCDEFGHIJKLMNOPQRSTUVWXYZ",
        base=[o for o in TINY if not o.startswith("data.sources.sample")],
    )
    assert f"data.sources.az_csv: {missing} does not exist" in str(error)


def test_a_model_too_large_for_the_memory_is_refused_with_its_size(attempt):
    error = attempt("model.filters=100000")
    assert isinstance(error, ConfigError)
    assert "filters=100000" in str(error) and "GiB are free: choose a smaller model" in str(error)


def test_a_read_only_artifact_root_is_refused(compose_config, tmp_path, read_only_folder):
    store = [f"tracking.uri=sqlite:///{tmp_path}/mlflow.db", f"checkpoints={tmp_path}/ck"]
    with pytest.raises(StoreNotWritable, match="tracking.artifact_root: cannot write to"):
        run(compose_config(*TINY, *store, f"tracking.artifact_root={read_only_folder}"))
    assert not (tmp_path / "mlflow.db").exists()


def test_a_read_only_folder_for_the_sqlite_store_is_refused(
    compose_config, tmp_path, read_only_folder
):
    store = [f"tracking.uri=sqlite:///{read_only_folder}/mlflow.db", f"checkpoints={tmp_path}/ck"]
    with pytest.raises(StoreNotWritable, match="tracking.uri: cannot write to"):
        run(compose_config(*TINY, *store, f"tracking.artifact_root={tmp_path}/a"))


def test_class_names_are_shown_as_spans():
    assert spans(set("0123456789ABCXYZ_")) == "0–9, A–C, X–Z, _"


def test_the_entrypoint_reports_a_bad_seed_in_one_line_with_exit_2(tmp_path):
    done = run_module(
        "experiments.run", tmp_path, "seed=-1", f"tracking.uri=sqlite:///{tmp_path}/m.db"
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1] == "error: seed must be in 0..4294967295, got -1"
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "m.db").exists()
