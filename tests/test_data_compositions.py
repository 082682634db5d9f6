"""Data configs that combine sources: they compose, and samples meet on one label space by name."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from experiments.schema import settings
from handrec.data.dataset import concat
from handrec.data.sources import SOURCES, AzCsvSource, EmnistSource, MnistSource, load
from handrec.labels import LabelSpace
from tests.conftest import CONF_DIR
from tests.test_data_az_csv import csv_text, write
from tests.test_data_emnist import BYCLASS, write_split
from tests.test_data_mnist import write_npz


def test_every_source_has_a_config_file_of_its_name():
    assert sorted(p.stem for p in (CONF_DIR / "source").glob("*.yaml")) == sorted(SOURCES)


def test_mnist_az_lists_both_sources(compose_config):
    sources = settings(compose_config("data=mnist_az")).data.sources
    assert isinstance(sources["mnist"], MnistSource) and isinstance(sources["az_csv"], AzCsvSource)


def test_emnist_36_reads_the_byclass_split(compose_config):
    source = settings(compose_config("data=emnist_36")).data.sources["emnist"]
    assert isinstance(source, EmnistSource) and source.split == "byclass"


def test_mnist_digits_and_az_letters_join_on_the_36_classes_by_name(compose_config, tmp_path):
    cfg = settings(
        compose_config(
            "data=mnist_az",
            f"data.sources.mnist.path={write_npz(tmp_path / 'mnist.npz')}",
            f"data.sources.az_csv.path={write(tmp_path / 'az.csv', csv_text())}",
            f"data.cache_dir={tmp_path / 'cache'}",
        )
    )
    space = LabelSpace.from_names(cfg.classes)
    parts = [load(spec, cfg.data.cache_dir).to_space(space) for spec in cfg.data.sources.values()]
    joined = concat([data for data, _ in parts])
    assert [dropped for _, dropped in parts] == [0, 0]
    assert joined.labels.names(joined.y[:3]) == ["0", "1", "2"]
    assert joined.labels.names(joined.y[-5:]) == ["A", "B", "Z", "H", "H"]


def test_emnist_byclass_on_the_36_classes_drops_the_lowercase(compose_config, tmp_path):
    folder = write_split(tmp_path / "e", "byclass", BYCLASS, {"test": [3, 12, 40, 61, 35]})
    cfg = settings(
        compose_config(
            "data=emnist_36",
            f"data.sources.emnist.path={folder}",
            "data.sources.emnist.part=test",
            f"data.cache_dir={tmp_path / 'cache'}",
        )
    )
    emnist = load(cfg.data.sources["emnist"], cfg.data.cache_dir)
    data, dropped = emnist.to_space(LabelSpace.from_names(cfg.classes))
    assert dropped == 2
    assert data.labels.names(data.y) == ["3", "C", "Z"]
    np.testing.assert_array_equal(data.y, [3, 12, 35])


def test_a_narrower_label_space_keeps_only_its_classes(tmp_path: Path):
    letters = load(AzCsvSource(path=str(write(tmp_path / "az.csv", csv_text()))), str(tmp_path))
    only_h, dropped = letters.to_space(LabelSpace.from_names("HZ"))
    assert (len(only_h), dropped) == (3, 2) and only_h.labels.names(only_h.y) == ["Z", "H", "H"]
