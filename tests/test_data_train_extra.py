"""data.train_extra: more training samples that leave validation and test as they were."""

from __future__ import annotations

from pathlib import Path

import pytest

from experiments.data import load_data, split_data
from experiments.preflight import check_data_files
from experiments.schema import Config, settings
from handrec.data.split import split
from handrec.errors import DataError
from handrec.labels import DIGITS, UPPERCASE
from tests.test_data_emnist import BYCLASS, write_split

C, LOWER_C, LOWER_O = 12, 38, 50
"""ByClass labels of C, c and o."""


@pytest.fixture
def extra_config(compose_config, tmp_path: Path):
    """emnist_36_extra on files holding ten 0s, 1s and Cs, five lowercase c and two o,
    mapped onto classes 01C."""

    def configured(*overrides: str) -> Config:
        labels = [0] * 10 + [1] * 10 + [C] * 10 + [LOWER_C] * 5 + [LOWER_O] * 2
        folder = write_split(tmp_path / "e", "byclass", BYCLASS, {"test": labels})
        return settings(
            compose_config(
                "data=emnist_36_extra",
                f"data.sources.emnist.path={folder}",
                "data.sources.emnist.part=test",
                "data.sources.emnist.reframe=false",
                "classes=01C",
                "data.split.val=0.2",
                "data.split.test=0.2",
                f"data.cache_dir={tmp_path / 'cache'}",
                *overrides,
            )
        )

    return configured


def test_emnist_36_extra_reads_the_lowercase_from_the_files_of_its_main_source(compose_config):
    data = settings(compose_config("data=emnist_36_extra", "data.sources.emnist.path=/x")).data
    extra = data.train_extra
    assert extra.sources["lowercase"].path == "/x" and extra.sources["lowercase"].part == "all"
    assert sorted(extra.classes.items()) == [(c, c.upper()) for c in "cosuvwxz"]
    assert set(extra.classes.values()) <= set(DIGITS + UPPERCASE)


def test_extra_samples_join_the_training_part_as_the_classes_they_are_mapped_onto(extra_config):
    cfg = extra_config()
    parts = split_data(load_data(cfg.data, cfg.classes), cfg.data, cfg.classes)
    assert parts.train.counts() == {"0": 6, "1": 6, "C": 6 + 5}


def test_validation_and_test_stay_those_of_the_split_without_extras(extra_config):
    cfg = extra_config()
    data = load_data(cfg.data, cfg.classes)
    with_extra, without = split_data(data, cfg.data, cfg.classes), split(data, cfg.data.split)
    for part in ("val", "test"):
        assert getattr(with_extra, part).fingerprint() == getattr(without, part).fingerprint()


def test_extra_images_that_validation_or_test_hold_are_refused(extra_config):
    cfg = extra_config("+data.train_extra.classes.C=C")  # the source's Cs: the split's too
    with pytest.raises(DataError, match="data.train_extra: 4 of its 15 images are also in"):
        split_data(load_data(cfg.data, cfg.classes), cfg.data, cfg.classes)


def test_a_missing_file_of_an_extra_source_is_named_by_its_key(extra_config, tmp_path: Path):
    cfg = extra_config(f"data.train_extra.sources.lowercase.path={tmp_path / 'nowhere'}")
    with pytest.raises(DataError, match="data.train_extra.sources.lowercase: .* does not exist"):
        check_data_files(cfg)
