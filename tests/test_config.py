"""The composed config: every choice composes, typos and bad values fail early and clearly."""

import dataclasses

import pytest
from hydra import compose, initialize_config_dir
from hydra.errors import ConfigCompositionException, MissingConfigException
from omegaconf import OmegaConf
from omegaconf.errors import ValidationError

from experiments.schema import register, settings
from handrec.data.sources import SOURCES
from handrec.errors import ConfigError
from tests.conftest import CONF_DIR

GROUPS = ["data", "model", "train", "tracking"]
CHOICES = [
    (group, path.stem) for group in GROUPS for path in sorted((CONF_DIR / group).glob("*.yaml"))
]


@pytest.mark.parametrize(("group", "choice"), CHOICES)
def test_every_config_choice_composes_into_valid_settings(compose_config, group, choice):
    settings(compose_config(f"{group}={choice}"))


def test_default_is_the_seed_model_on_the_embedded_sample(compose_config):
    cfg = compose_config()
    assert (cfg.model.name, cfg.data.name) == ("seed_cnn", "sample")
    assert cfg.classes == "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def test_an_override_reaches_the_typed_settings(compose_config):
    assert settings(compose_config("model.filters=64")).model.filters == 64


def test_a_misspelt_key_fails_at_compose_time(compose_config):
    with pytest.raises(ConfigCompositionException, match="model.filtrs"):
        compose_config("model.filtrs=64")


def test_a_wrongly_typed_value_fails_at_compose_time(compose_config):
    with pytest.raises(ConfigCompositionException) as info:
        compose_config("train.epochs=many")
    assert isinstance(info.value.__cause__, ValidationError)


def test_an_unknown_choice_lists_the_valid_ones(compose_config):
    with pytest.raises(MissingConfigException, match="Available options in 'model'"):
        compose_config("model=transformer")


@pytest.mark.parametrize(
    ("override", "named"),
    [
        ("model.filters=0", "model.filters must be >= 1"),
        ("train.epochs=0", "train.epochs must be >= 1"),
        ("train.batch_size=0", "train.batch_size must be >= 1"),
        ("data.split.val=1.5", "data.split.val must be in (0, 1)"),
        ("data.split.test=0", "data.split.test must be in (0, 1)"),
        ("data.split.val=0.5", "data.split.val + data.split.test must be < 1"),
        ("train.optimizer=adagrad", "train.optimizer must be one of"),
    ],
)
def test_an_out_of_range_value_names_the_key_and_range(compose_config, override, named):
    overrides = [override, "data.split.test=0.5"] if "val=0.5" in override else [override]
    with pytest.raises(ConfigError) as info:
        settings(compose_config(*overrides))
    assert named in str(info.value)
    assert "\n" not in str(info.value)


def test_help_lists_the_config_groups_and_their_options_but_no_schemas():
    register()
    with initialize_config_dir(str(CONF_DIR), version_base="1.3"):
        text = compose("config", return_hydra_config=True).hydra.help.template
    assert "\nmodel: cnn, resnet, seed_cnn\n" in text and "schema/" not in text


@pytest.mark.parametrize("choice", sorted(p.stem for p in (CONF_DIR / "data").glob("*.yaml")))
def test_every_data_choice_splits_by_the_run_seed_unless_pinned(compose_config, choice):
    assert settings(compose_config(f"data={choice}", "seed=7")).data.split.seed == 7
    pinned = compose_config(f"data={choice}", "seed=7", "data.split.seed=0")
    assert settings(pinned).data.split.seed == 0


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_a_source_config_restates_no_default_of_its_spec(name):
    stated = OmegaConf.to_container(OmegaConf.load(CONF_DIR / "source" / f"{name}.yaml"))
    defaults = dataclasses.asdict(SOURCES[name]())
    assert not [key for key, value in defaults.items() if key in stated and stated[key] == value]
