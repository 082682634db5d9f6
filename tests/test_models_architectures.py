"""Every registered architecture: raw pixels in, probabilities out, trains, has a known cost."""

import pytest

from handrec.errors import ConfigError
from handrec.models import BUILDERS, PARAMS, build_model, flops
from handrec.models.cnn import CnnParams
from handrec.models.resnet import ResNetParams
from handrec.models.seed_cnn import SeedCnnParams
from handrec.training.fit import TrainSpec, fit
from tests.test_training import toy

TINY = {
    "seed_cnn": SeedCnnParams(filters=2, dense_units=4),
    "cnn": CnnParams(blocks=2, filters=4, dense_units=8),
    "resnet": ResNetParams(stages=2, blocks_per_stage=1, filters=4),
}


def test_every_registered_model_has_a_tiny_case_here():
    assert set(TINY) == set(PARAMS)


def test_every_config_choice_has_a_builder():
    assert set(BUILDERS) == set(PARAMS.values())


@pytest.mark.parametrize("name", ["cnn", "resnet"])  # seed_cnn trains in test_training
def test_each_architecture_takes_raw_pixels_and_trains_one_tiny_epoch(name):
    model = build_model(TINY[name], 2)
    assert (model.input_shape, model.output_shape) == ((None, 28, 28), (None, 2))
    assert model.name == name
    history = fit(model, toy(32, 0), toy(16, 1), TrainSpec(epochs=1, batch_size=16, verbose=0))
    assert len(history["loss"]) == 1


def test_flops_count_the_multiply_adds_of_the_seed_cnn():
    # conv 24²·32·5·5 + conv 20²·32·32·5·5 + dense 3200·256 + dense 256·36
    assert flops(build_model(SeedCnnParams(), 36)) == 460_800 + 10_240_000 + 819_200 + 9_216


def test_cnn_widths_grow_by_the_multiplier_per_block():
    model = build_model(CnnParams(blocks=3, filters=8, width_multiplier=2, convs_per_block=2), 36)
    assert [layer.filters for layer in model.layers if hasattr(layer, "filters")] == [
        8,
        8,
        16,
        16,
        32,
        32,
    ]


def test_cnn_options_change_the_layers():
    plain = build_model(
        CnnParams(batch_norm=False, pooling="avg", global_pool=True, dense_units=0, dropout=0), 36
    )
    kinds = {type(layer).__name__ for layer in plain.layers}
    assert "BatchNormalization" not in kinds and "Flatten" not in kinds
    assert {"AveragePooling2D", "GlobalAveragePooling2D"} <= kinds
    assert sum(type(layer).__name__ == "Dense" for layer in plain.layers) == 1


def test_resnet_stages_double_the_width_and_halve_the_resolution():
    model = build_model(ResNetParams(stages=3, blocks_per_stage=2, filters=8), 36)
    adds = [layer.output.shape[1:] for layer in model.layers if type(layer).__name__ == "Add"]
    assert adds == [(28, 28, 8)] * 2 + [(14, 14, 16)] * 2 + [(7, 7, 32)] * 2
    stem_stride = build_model(ResNetParams(stages=1, blocks_per_stage=1, stem_stride=2), 36)
    assert flops(stem_stride) < flops(build_model(ResNetParams(stages=1, blocks_per_stage=1), 36))


def test_every_model_ends_in_a_float32_softmax_for_mixed_precision():
    for name, params in TINY.items():
        last = build_model(params, 2).layers[-1]
        assert last.dtype_policy.compute_dtype == "float32", name


@pytest.mark.parametrize(
    ("params", "settings", "named"),
    [
        (CnnParams, {"blocks": 5}, "model.blocks must be in 1..4"),
        (CnnParams, {"pooling": "lp"}, "model.pooling must be one of max, avg"),
        (CnnParams, {"width_multiplier": 0.5}, "model.width_multiplier must be in [1, 4]"),
        (CnnParams, {"dense_units": -1}, "model.dense_units must be >= 0"),
        (ResNetParams, {"stages": 0}, "model.stages must be in 1..4"),
        (ResNetParams, {"stem_stride": 3}, "model.stem_stride must be 1 or 2"),
        (ResNetParams, {"dropout": 1.0}, "model.dropout must be in [0, 1)"),
    ],
)
def test_out_of_range_architecture_settings_name_the_key_and_range(params, settings, named):
    with pytest.raises(ConfigError) as info:
        params(**settings)
    assert named in str(info.value)
