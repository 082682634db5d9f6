import pytest

from handrec.errors import ConfigError
from handrec.models import build_model
from handrec.models.seed_cnn import SeedCnnParams


def test_seed_cnn_has_the_original_parameter_count():
    assert build_model(SeedCnnParams(), 36).count_params() == 855_556


def test_seed_cnn_has_the_original_layer_order():
    kinds = [type(layer).__name__ for layer in build_model(SeedCnnParams(), 36).layers]
    assert kinds[kinds.index("Conv2D") :] == [
        "Conv2D",
        "BatchNormalization",
        "Conv2D",
        "BatchNormalization",
        "MaxPooling2D",
        "Dropout",
        "BatchNormalization",
        "Flatten",
        "Dense",
        "Dense",
    ]


def test_seed_cnn_filters_setting_widens_both_convolutions():
    model = build_model(SeedCnnParams(filters=64), 36)
    assert [layer.filters for layer in model.layers if hasattr(layer, "filters")] == [64, 64]


def test_models_take_raw_pixels_and_output_class_probabilities():
    model = build_model(SeedCnnParams(filters=4, dense_units=8), 10)
    assert model.input_shape == (None, 28, 28)
    assert model.output_shape == (None, 10)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("filters", 0),
        ("kernel_size", 0),
        ("dropout", 1.0),
        ("dense_units", 0),
        ("bn_momentum", 1.0),
    ],
)
def test_out_of_range_model_settings_are_refused(field, value):
    with pytest.raises(ConfigError, match=f"model.{field}"):
        SeedCnnParams(**{field: value})


def test_batch_norm_momentum_setting_reaches_every_batch_norm_layer():
    model = build_model(SeedCnnParams(bn_momentum=0.5), 36)
    momenta = [layer.momentum for layer in model.layers if hasattr(layer, "momentum")]
    assert momenta == [0.5, 0.5, 0.5]
